/**
 * @module virt/ovs-bridges
 * Open vSwitch bridges reconciled from network.yaml's `bridges:` (the YAML is the
 * single truth, as in Proxmox: state is rebuilt from the file, at boot by the
 * OpenRC service quantix-vswitch and after every change through the API).
 *
 * qx-node marks what it creates: bridges with `external_ids:quantix=managed`,
 * uplink ports with `external_ids:quantix=uplink`. A reconcile adds what the file
 * declares and removes only marked objects it no longer declares; bridges and ports
 * made by hand or by libvirt (a VM's `vnetN`) are left alone. Everything happens in
 * one `ovs-vsctl` transaction, built by the pure {@link planBridges}, so a second run
 * with the same file is a no-op.
 *
 * @example
 * ```ts
 * const ovs = ovsBridges({ db: "unix:/run/openvswitch/db.sock" });
 * await ovs.reconcile(config.bridges ?? []);
 * ```
 */
import { ExecError, type OvsBridge, run as coreRun } from "@quantix/core";
import type { Runner } from "../context.ts";
import { VirtCommandError, VirtUnavailableError } from "./errors.ts";

/** What OVS has now, as far as reconciling is concerned. */
export interface OvsState {
  /** Every bridge: name, datapath type, and whether qx-node manages it. */
  readonly bridges: readonly { name: string; datapath: string; managed: boolean; ports: string[] }[];
  /** Uplink ports qx-node added, with their bridge. */
  readonly uplinks: readonly { name: string; bridge: string }[];
}

export interface OvsOptions {
  /** ovsdb-server to talk to (default: ovs-vsctl's own default, /run/openvswitch/db.sock). */
  readonly db?: string;
  readonly runner?: Runner;
  readonly timeoutSeconds?: number;
}

export interface OvsBridges {
  state(): Promise<OvsState>;
  /** Makes OVS match `bridges`; returns the ovs-vsctl operations it ran (empty: nothing to do). */
  reconcile(bridges: readonly OvsBridge[]): Promise<string[][]>;
  /** Sets (or clears, with null) the access VLAN of a port. */
  setPortTag(port: string, vlan: number | null): Promise<void>;
  /** The access VLAN of a port (null: none), or undefined when there is no such port. */
  portTag(port: string): Promise<number | null | undefined>;
}

/** The ovs-vsctl operations that turn `state` into `bridges` (see the module comment). */
export function planBridges(bridges: readonly OvsBridge[], state: OvsState): string[][] {
  const ops: string[][] = [];
  const have = new Map(state.bridges.map((b) => [b.name, b]));
  const wantUplinks = new Map<string, string>();
  for (const b of bridges) for (const u of b.uplinks) wantUplinks.set(u, b.name);
  for (const u of state.uplinks) {
    if (wantUplinks.get(u.name) !== u.bridge) ops.push(["--if-exists", "del-port", u.bridge, u.name]);
  }
  for (const b of state.bridges) {
    if (b.managed && !bridges.some((w) => w.name === b.name)) ops.push(["--if-exists", "del-br", b.name]);
  }
  for (const b of bridges) {
    const cur = have.get(b.name);
    if (!cur) ops.push(["add-br", b.name]);
    if (!cur || cur.datapath !== b.datapath || !cur.managed) {
      ops.push(["set", "Bridge", b.name, `datapath_type=${b.datapath}`, "external_ids:quantix=managed"]);
    }
    for (const u of b.uplinks) {
      const ok = state.uplinks.some((x) => x.name === u && x.bridge === b.name);
      if (!ok) {
        if (!cur?.ports.includes(u)) ops.push(["add-port", b.name, u]);
        ops.push(["set", "Port", u, "external_ids:quantix=uplink"]);
      }
    }
  }
  return ops;
}

function mapOvsError(e: unknown): Error {
  if (!(e instanceof ExecError)) return e instanceof Error ? e : new Error(String(e));
  if (e.exitCode === 127) return new VirtUnavailableError("ovs-vsctl is not installed (package openvswitch-switch)", { cause: e });
  if (/database connection failed|No such file or directory|timed out|Connection refused/i.test(e.stderr) || e.signal) {
    return new VirtUnavailableError(`Open vSwitch does not answer (${e.stderr.trim().split("\n").pop() ?? "timeout"}); start it: rc-service openvswitch-switch start`, { cause: e });
  }
  return new VirtCommandError(`Open vSwitch: ${e.stderr.trim().split("\n").pop() ?? e.message}`, { cause: e });
}

/** Splits `--data=bare` list cells ("a b c") into items. */
const items = (s: string | undefined) => (s ?? "").split(/\s+/).filter(Boolean);

/** The OVS side of VM networking (see the module comment). */
export function ovsBridges(o: OvsOptions = {}): OvsBridges {
  const runner = o.runner ?? coreRun;
  const timeout = o.timeoutSeconds ?? 10;
  const vsctl = async (args: string[]): Promise<string> => {
    try {
      const r = await runner("ovs-vsctl", [`--timeout=${timeout}`, ...(o.db ? [`--db=${o.db}`] : []), ...args], { timeoutMs: (timeout + 5) * 1000 });
      return r.stdout;
    } catch (e) {
      throw mapOvsError(e);
    }
  };
  const csv = async (table: string, columns: string): Promise<string[][]> => {
    const out = await vsctl(["--format=csv", "--data=bare", "--no-headings", `--columns=${columns}`, "list", table]);
    return out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(",").map((c) => c.replace(/^"|"$/g, "")));
  };

  async function state(): Promise<OvsState> {
    const [bridges, ports] = await Promise.all([csv("Bridge", "_uuid,name,datapath_type,external_ids,ports"), csv("Port", "_uuid,name,external_ids")]);
    const portName = new Map(ports.map((p) => [p[0] ?? "", p[1] ?? ""]));
    const bridgeOf = new Map<string, string>();
    const out = bridges.map(([, name = "", dp = "", ids = "", portIds = ""]) => {
      const names = items(portIds).map((id) => portName.get(id) ?? "");
      for (const n of names) bridgeOf.set(n, name);
      return { name, datapath: dp || "system", managed: /quantix=managed/.test(ids), ports: names };
    });
    const uplinks = ports.filter((p) => /quantix=uplink/.test(p[2] ?? "")).map((p) => ({ name: p[1] ?? "", bridge: bridgeOf.get(p[1] ?? "") ?? "" }));
    return { bridges: out, uplinks };
  }

  return {
    state,
    async reconcile(bridges) {
      const ops = planBridges(bridges, await state());
      if (ops.length > 0) await vsctl(ops.flatMap((op, i) => (i === 0 ? op : ["--", ...op])));
      return ops;
    },
    async setPortTag(port, vlan) {
      await vsctl(vlan === null ? ["clear", "Port", port, "tag"] : ["set", "Port", port, `tag=${vlan}`]);
    },
    async portTag(port) {
      try {
        const out = (await vsctl(["get", "Port", port, "tag"])).trim();
        return out === "[]" || out === "" ? null : Number(out);
      } catch (e) {
        if (e instanceof VirtCommandError && /no row/i.test(e.message)) return undefined;
        throw e;
      }
    },
  };
}
