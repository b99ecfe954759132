/**
 * @module firstboot/identity
 * The node's identity (node_id + hostname) in `/quantix/node.yaml`, created once and
 * never twice. Sources, in order: the file; when it is missing, the last-good copy
 * (`/quantix/.last-good/node.yaml`), then the node_id recorded in `firstboot.done`;
 * only when none exists is a new UUID drawn. A broken node.yaml is never overwritten.
 *
 * @example
 * ```ts
 * const { identity, message } = await ensureIdentity({ root: "/", prefix: async () => "quantix" });
 * ```
 */
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import { ConfigError, configPaths, NodeConfig, nodeConfigFile } from "@quantix/core";
import { FirstbootError } from "./errors.ts";

export interface Identity {
  readonly nodeId: string;
  readonly hostname: string;
  /** Where it came from on this boot. */
  readonly source: "file" | "last-good" | "firstboot.done" | "new";
  /** True when node.yaml is broken and was left untouched (the identity is read-only this boot). */
  readonly degraded: boolean;
}

/** `<prefix>-XXXX`, XXXX = the first 4 hex digits of the node_id. */
export function hostnameFor(prefix: string, nodeId: string): string {
  return `${prefix}-${nodeId.replace(/-/g, "").slice(0, 4).toLowerCase()}`;
}

/** The node_id recorded in firstboot.done (`node_id=<uuid>` line), or null. */
export async function nodeIdFromDoneFile(path: string): Promise<string | null> {
  const text = await fs.readFile(path, "utf8").catch(() => null);
  const m = text?.match(/^node_id=(\S+)$/m);
  const id = m?.[1];
  return id && NodeConfig.shape.node_id.safeParse(id).success ? id : null;
}

export interface EnsureIdentityOptions {
  readonly root: string;
  /** The hostname prefix (from the seed); only asked for when a file must be written. */
  readonly prefix: () => Promise<string>;
  /** A fixed hostname (the installer's answer file), used instead of `<prefix>-XXXX` for a new node.yaml. */
  readonly hostname?: () => Promise<string | undefined>;
  readonly newNodeId?: () => string;
}

const HEADER = " /quantix/node.yaml: this node's identity, created by qx-firstboot. Keep node_id unchanged.";

/** Makes sure node.yaml holds a valid identity; returns it and a one-line account. */
export async function ensureIdentity(o: EnsureIdentityOptions): Promise<{ identity: Identity; message: string }> {
  const paths = configPaths(o.root);
  const file = nodeConfigFile(o.root);
  const exists = await file.exists();

  if (exists) {
    const r = await file.loadWithFallback();
    if (r.source === "file" && r.value) {
      const v = r.value;
      return { identity: { nodeId: v.node_id, hostname: v.hostname, source: "file", degraded: false }, message: `node_id ${v.node_id}, hostname ${v.hostname} (existing node.yaml)` };
    }
    // Broken file: never overwrite it (an operator edit gone wrong must not cost the node its identity).
    const why = r.error?.message ?? "unreadable";
    if (r.value) {
      return {
        identity: { nodeId: r.value.node_id, hostname: r.value.hostname, source: "last-good", degraded: true },
        message: `node.yaml is broken (${why}); left untouched, using the last good copy this boot (node_id ${r.value.node_id}); fix it or copy ${file.lastGoodPath} over it`,
      };
    }
    const doneId = await nodeIdFromDoneFile(paths.firstbootDone);
    if (doneId) {
      const hostname = hostnameFor(await o.prefix(), doneId);
      return {
        identity: { nodeId: doneId, hostname, source: "firstboot.done", degraded: true },
        message: `node.yaml is broken (${why}) and has no last good copy; left untouched, node_id ${doneId} from firstboot.done used for the hostname; fix node.yaml`,
      };
    }
    throw new FirstbootError(`node.yaml is broken (${why}) and no last good copy or firstboot.done records the node_id; not creating a second identity over it`, "ensureIdentity", {
      hint: `fix ${paths.node}, or delete it to give this node a new identity`,
      cause: r.error ?? undefined,
    });
  }

  // Missing: restore what was known before drawing a new id.
  const lastGood = await file.loadWithFallback();
  if (lastGood.source === "last-good" && lastGood.value) {
    const v = await file.write(lastGood.value, { header: HEADER });
    return { identity: { nodeId: v.node_id, hostname: v.hostname, source: "last-good", degraded: false }, message: `node.yaml was missing; restored from the last good copy (node_id ${v.node_id}, hostname ${v.hostname})` };
  }
  const prefix = await o.prefix();
  const fixed = await o.hostname?.();
  const doneId = await nodeIdFromDoneFile(paths.firstbootDone);
  const nodeId = doneId ?? (o.newNodeId ?? randomUUID)();
  const value: NodeConfig = { node_id: nodeId, hostname: fixed ?? hostnameFor(prefix, nodeId) };
  try {
    await file.write(value, { header: HEADER });
  } catch (e) {
    if (e instanceof ConfigError) throw new FirstbootError(`cannot create node.yaml: ${e.message}`, "ensureIdentity", { cause: e });
    throw e;
  }
  return {
    identity: { nodeId, hostname: value.hostname, source: doneId ? "firstboot.done" : "new", degraded: false },
    message: doneId
      ? `node.yaml was missing; recreated with node_id ${nodeId} from firstboot.done, hostname ${value.hostname}`
      : `created node.yaml: node_id ${nodeId}, hostname ${value.hostname}`,
  };
}
