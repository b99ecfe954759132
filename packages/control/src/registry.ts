/**
 * @module registry
 * The cluster's nodes: join (token + CSR → node certificate, in one etcd transaction so a
 * token's use limit holds under any number of simultaneous joins and a half-registered
 * node cannot exist), certificate renewal, heartbeats, the node list with readiness, and
 * removal. Readiness is a lease in the Kubernetes sense: the control plane's clock at the
 * last heartbeat; a node is NotReady once 40 s pass without one.
 */
import type { Store } from "./etcd/store.ts";
import { ConflictError, ControlError, NotFoundError } from "./errors.ts";
import type { EventLog, EventRecord } from "./events.ts";
import {
  HEARTBEAT_SECONDS,
  type JoinRequest,
  KEYS,
  MAX_CLOCK_SKEW_MS,
  NOT_READY_AFTER_MS,
  type NodeStatusReport,
  type StoredCondition,
  type StoredJoinToken,
  type StoredNode,
  type StoredStatus,
} from "./model.ts";
import { type KeyPairPem, certInfo, signNodeCsr } from "./pki.ts";
import type { JoinTokens } from "./tokens.ts";

export interface NodeView {
  readonly nodeId: string;
  readonly hostname: string;
  readonly state: "Ready" | "NotReady" | "Unknown";
  readonly reason: string;
  readonly lastHeartbeat: string | null;
  readonly since: string | null;
  readonly roles: readonly string[];
  readonly addresses: readonly string[];
  readonly joinedAt: string;
  readonly certNotAfter: string;
  readonly version: string | null;
  readonly cpus: number | null;
  readonly memoryBytes: number | null;
  readonly memoryFreeBytes: number | null;
  readonly dataBytes: number | null;
  readonly dataFreeBytes: number | null;
  readonly health: string | null;
  readonly vms: NodeStatusReport["vms"];
}

export interface JoinResult {
  readonly nodeId: string;
  readonly hostname: string;
  readonly certificate: string;
  readonly ca: string;
  readonly cluster: string;
  readonly heartbeatSeconds: number;
}

export function readiness(status: StoredStatus | undefined, now: number, notReadyAfterMs = NOT_READY_AFTER_MS): { state: NodeView["state"]; reason: string } {
  if (!status) return { state: "Unknown", reason: "no heartbeat yet" };
  const age = now - status.seenAt;
  if (age > notReadyAfterMs) return { state: "NotReady", reason: `no heartbeat for ${Math.round(age / 1000)} s` };
  return { state: "Ready", reason: "heartbeating" };
}

export function viewNode(n: StoredNode, s: StoredStatus | undefined, c: StoredCondition | undefined, now: number, notReadyAfterMs = NOT_READY_AFTER_MS): NodeView {
  const r = readiness(s, now, notReadyAfterMs);
  return {
    nodeId: n.nodeId,
    hostname: n.hostname,
    state: r.state,
    reason: r.reason,
    lastHeartbeat: s ? new Date(s.seenAt).toISOString() : null,
    since: c && c.ready === (r.state === "Ready") ? c.since : null,
    roles: n.roles,
    addresses: n.addresses,
    joinedAt: n.joinedAt,
    certNotAfter: n.certNotAfter,
    version: s?.version ?? null,
    cpus: s?.cpus ?? null,
    memoryBytes: s?.memoryBytes ?? null,
    memoryFreeBytes: s?.memoryFreeBytes ?? null,
    dataBytes: s?.dataBytes ?? null,
    dataFreeBytes: s?.dataFreeBytes ?? null,
    health: s?.health ?? null,
    vms: s?.vms ?? [],
  };
}

export class Registry {
  readonly #nodeCache = new Map<string, { rec: StoredNode | null; at: number }>();

  constructor(
    readonly store: Store,
    readonly tokens: JoinTokens,
    readonly events: EventLog,
    readonly ca: () => KeyPairPem,
    readonly clusterName: () => string,
    readonly replica: string,
    readonly notReadyAfterMs = NOT_READY_AFTER_MS,
  ) {}

  async join(req: JoinRequest, now = new Date()): Promise<JoinResult> {
    const skew = Date.parse(req.time) - now.getTime();
    if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
      throw new ControlError(400, "CLOCK_SKEW", `the node's clock is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? "ahead of" : "behind"} the control plane's (node ${req.time}, control plane ${now.toISOString()})`, {
        hint: "set the node's time (NTP, or the clock in the BIOS) and join again: certificates would not be valid on it",
      });
    }
    for (let attempt = 0; attempt < 50; attempt++) {
      const token = await this.tokens.check(req.token, now.getTime());
      const [byName, byId] = await Promise.all([
        this.store.get<string>(KEYS.nodeName(req.hostname)),
        this.store.get<StoredNode>(KEYS.node(req.nodeId)),
      ]);
      const replaced: StoredNode[] = [];
      if (byId) {
        if (!req.replace) {
          throw new ConflictError("NODE_EXISTS", `node ${req.nodeId} is already in the cluster as ${byId.value.hostname}`, {
            hint: `a node joins once; to join it again run \`qxctl node remove ${byId.value.hostname}\` first, or join with replace`,
          });
        }
        replaced.push(byId.value);
      }
      let otherByName: StoredNode | null = null;
      if (byName && byName.value !== req.nodeId) {
        otherByName = (await this.store.get<StoredNode>(KEYS.node(byName.value)))?.value ?? null;
        if (otherByName && !req.replace) {
          throw new ConflictError("HOSTNAME_TAKEN", `host name ${req.hostname} is already in the cluster (node ${byName.value})`, {
            hint: `after a reinstall run \`qxctl node remove ${req.hostname}\` first, or join with replace; otherwise give this node another host name`,
          });
        }
        if (otherByName) replaced.push(otherByName);
      }
      const certificate = await signNodeCsr(this.ca(), req.csr, { hostname: req.hostname, nodeId: req.nodeId, ips: req.addresses, now });
      const info = certInfo(certificate);
      const node: StoredNode = {
        nodeId: req.nodeId,
        hostname: req.hostname,
        joinedAt: now.toISOString(),
        joinedWith: token.value.id,
        addresses: req.addresses,
        certSerial: info.serial,
        certNotBefore: info.notBefore,
        certNotAfter: info.notAfter,
        roles: ["worker"],
      };
      const usedToken: StoredJoinToken = { ...token.value, uses: token.value.uses + 1 };
      const txn = this.store.txn().ifUnchanged(token.key, token.modRevision);
      txn.ifUnchanged(KEYS.node(req.nodeId), byId?.modRevision ?? "0");
      txn.ifUnchanged(KEYS.nodeName(req.hostname), byName?.modRevision ?? "0");
      for (const old of replaced) {
        if (old.nodeId !== req.nodeId) txn.delete(KEYS.node(old.nodeId));
        txn.delete(KEYS.status(old.nodeId)).delete(KEYS.condition(old.nodeId));
        if (old.hostname !== req.hostname) txn.delete(KEYS.nodeName(old.hostname));
      }
      const ev = this.events.record({ subject: `node:${req.hostname}`, type: "joined", message: `${req.hostname} joined with token ${token.value.id}${replaced.length ? ` (replacing ${replaced.map((r) => r.nodeId).join(", ")})` : ""}` }, now);
      txn.put(token.key, usedToken).put(KEYS.node(req.nodeId), node).put(KEYS.nodeName(req.hostname), req.nodeId).put(KEYS.event(ev.id), ev);
      if (await txn.commit()) {
        this.#nodeCache.delete(req.nodeId);
        for (const old of replaced) this.#nodeCache.delete(old.nodeId);
        return { nodeId: req.nodeId, hostname: req.hostname, certificate, ca: this.ca().certPem, cluster: this.clusterName(), heartbeatSeconds: HEARTBEAT_SECONDS };
      }
      // Someone else used the token or registered the name meanwhile: read again.
      await new Promise((r) => setTimeout(r, 5 + Math.random() * 20 * Math.min(attempt + 1, 10)));
    }
    throw new ControlError(503, "JOIN_CONTENDED", "the join could not be recorded: too many simultaneous changes", { hint: "retry the join" });
  }

  /** The registered node a presented certificate belongs to, checked against its serial. */
  async nodeForCertificate(nodeId: string, serial: string, now = Date.now()): Promise<StoredNode> {
    let c = this.#nodeCache.get(nodeId);
    if (!c || now - c.at > 5000) {
      c = { rec: (await this.store.get<StoredNode>(KEYS.node(nodeId)))?.value ?? null, at: now };
      this.#nodeCache.set(nodeId, c);
    }
    const rec = c.rec;
    if (!rec) {
      throw new ControlError(403, "NODE_REMOVED", `node ${nodeId} is not in the cluster (it was removed)`, { hint: "join it again with a new token" });
    }
    const ok = rec.certSerial === serial || rec.prevCertSerial === serial;
    if (!ok) throw new ControlError(403, "CERT_SUPERSEDED", `this certificate of ${rec.hostname} was replaced`, { hint: "the agent uses the newest certificate; re-join if it was lost" });
    return rec;
  }

  async heartbeat(node: StoredNode, report: NodeStatusReport, now = Date.now()): Promise<{ heartbeatSeconds: number; renewAfter: string }> {
    const status: StoredStatus = { ...report, seenAt: now, via: this.replica };
    await this.store.put(KEYS.status(node.nodeId), status);
    // Renew at two thirds of the certificate's life (kubelet's rotation does the same).
    const from = Date.parse(node.certNotBefore);
    const renewAfter = new Date(from + ((Date.parse(node.certNotAfter) - from) * 2) / 3).toISOString();
    return { heartbeatSeconds: HEARTBEAT_SECONDS, renewAfter };
  }

  async renew(node: StoredNode, csr: string, now = new Date()): Promise<{ certificate: string; ca: string }> {
    const certificate = await signNodeCsr(this.ca(), csr, { hostname: node.hostname, nodeId: node.nodeId, ips: node.addresses, now });
    const info = certInfo(certificate);
    for (;;) {
      const e = await this.store.get<StoredNode>(KEYS.node(node.nodeId));
      if (!e) throw new NotFoundError(`node ${node.nodeId} was removed`);
      const rec: StoredNode = { ...e.value, prevCertSerial: e.value.certSerial, certSerial: info.serial, certNotBefore: info.notBefore, certNotAfter: info.notAfter };
      const ev = this.events.record({ subject: `node:${node.hostname}`, type: "certificate-renewed", message: `${node.hostname}'s certificate renewed until ${info.notAfter}` }, now);
      if (await this.store.txn().ifUnchanged(e.key, e.modRevision).put(e.key, rec).put(KEYS.event(ev.id), ev).commit()) {
        this.#nodeCache.delete(node.nodeId);
        return { certificate, ca: this.ca().certPem };
      }
    }
  }

  async list(now = Date.now()): Promise<NodeView[]> {
    const [nodes, statuses, conditions] = await Promise.all([
      this.store.list<StoredNode>(KEYS.nodes),
      this.store.list<StoredStatus>(KEYS.statuses),
      this.store.list<StoredCondition>(KEYS.conditions),
    ]);
    const s = new Map(statuses.map((e) => [e.key.slice(KEYS.statuses.length), e.value]));
    const c = new Map(conditions.map((e) => [e.key.slice(KEYS.conditions.length), e.value]));
    return nodes
      .map((e) => viewNode(e.value, s.get(e.value.nodeId), c.get(e.value.nodeId), now, this.notReadyAfterMs))
      .sort((a, b) => a.hostname.localeCompare(b.hostname));
  }

  /** A node by host name or ID. */
  async find(ref: string, now = Date.now()): Promise<NodeView> {
    const id = (await this.store.get<string>(KEYS.nodeName(ref)))?.value ?? ref;
    const n = await this.store.get<StoredNode>(KEYS.node(id));
    if (!n) throw new NotFoundError(`no node ${ref} in the cluster`, "list them with `qxctl node list`");
    const [s, c] = await Promise.all([this.store.get<StoredStatus>(KEYS.status(id)), this.store.get<StoredCondition>(KEYS.condition(id))]);
    return viewNode(n.value, s?.value, c?.value, now, this.notReadyAfterMs);
  }

  /** Removes a node: its certificate stops working at once; its VMs keep running on it. */
  async remove(ref: string, now = new Date()): Promise<NodeView> {
    for (;;) {
      const view = await this.find(ref, now.getTime());
      const n = await this.store.get<StoredNode>(KEYS.node(view.nodeId));
      if (!n) continue;
      if (n.value.roles.includes("control-plane")) {
        throw new ConflictError("NODE_IS_CONTROL_PLANE", `${view.hostname} is a control-plane member`, { hint: `demote it first: \`qxctl node demote ${view.hostname}\`` });
      }
      const ev: EventRecord = this.events.record({ subject: `node:${view.hostname}`, type: "removed", message: `${view.hostname} removed from the cluster` }, now);
      const ok = await this.store
        .txn()
        .ifUnchanged(n.key, n.modRevision)
        .delete(n.key)
        .delete(KEYS.nodeName(view.hostname))
        .delete(KEYS.status(view.nodeId))
        .delete(KEYS.condition(view.nodeId))
        .put(KEYS.event(ev.id), ev)
        .commit();
      if (ok) {
        this.#nodeCache.delete(view.nodeId);
        return view;
      }
    }
  }
}
