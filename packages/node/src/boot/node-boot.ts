/**
 * @module boot/node-boot
 * What a node does at boot before libvirtd and qx-node start (OpenRC `quantix-boot`,
 * the `qx-boot` command), as {@link BootPhase}s run by boot-sequence:
 *
 *   firstboot ──► network ──► vswitch        data        boot-env
 *
 * - `firstboot`: /quantix identity, network.yaml, certificates/, hostname (the
 *   installer's first-boot sequence);
 * - `network`: the management network from network.yaml (after firstboot, which may
 *   have just written it), on its Open vSwitch bridge when it names one (waiting for
 *   Open vSwitch, which starts beside qx-boot);
 * - `data`: the QX_DATA partition on /data (formatted only when blank);
 * - `vswitch`: Open vSwitch bridges of network.yaml (skipped when none is declared;
 *   Open vSwitch keeps its database in RAM, so no bridge survives a reboot);
 * - `boot-env`: a torn GRUB environment repaired, GRUB's own rollbacks recorded
 *   (qx-update's library; on a trial boot the health gate, quantix-update, does it).
 *
 * Each failure is reported (boot.json, then qx-node's health component `boot`) and
 * stops nothing else.
 *
 * @example
 * ```ts
 * const report = await runBootPhases(nodeBootPhases({ root: "/", log }), { log });
 * ```
 */
import { join } from "node:path";
import { networkConfigFile } from "@quantix/core";
import { runFirstboot } from "@quantix/installer/firstboot/firstboot";
import { defaultDataEnv, mountData } from "../services/data-mount.ts";
import { defaultNetReadyEnv, waitForNetPorts } from "../services/net-ready.ts";
import { applyNetwork, defaultNetworkEnv, defaultOvsAccess, waitForOvs } from "../services/network-apply.ts";
import { ovsBridges } from "../virt/ovs-bridges.ts";
import { reconcileBridges } from "../virt/vm-networks.ts";
import type { BootPhase } from "./boot-sequence.ts";

export { BOOT_REPORT } from "./boot-sequence.ts";

export interface NodeBootOptions {
  readonly root: string;
  readonly log: (line: string) => void;
  /** Open vSwitch's database socket; it and ovs-vswitchd.pid beside it are waited for before bridges are made. */
  readonly ovsSocket?: string;
  /** How long to wait for Open vSwitch (ms). */
  readonly ovsWaitMs?: number;
}

export function nodeBootPhases(o: NodeBootOptions): BootPhase[] {
  const sub = (phase: string) => (line: string) => o.log(`${phase}: ${line}`);
  return [
    {
      name: "firstboot",
      async run() {
        const r = await runFirstboot({ root: o.root, log: sub("firstboot") });
        const failed = r.phases.filter((p) => p.status === "failed");
        if (failed.length) throw new Error(failed.map((p) => `${p.name}: ${p.message}`).join("; "));
        return `${r.phases.length} steps, /quantix ready`;
      },
    },
    {
      name: "network",
      after: ["firstboot"],
      async run() {
        // The ports' final names first (udev renames them; no `udevadm settle`).
        const ready = await waitForNetPorts(defaultNetReadyEnv({ log: sub("network") }));
        if (!ready.skipped) o.log(`network: ports named by udev after ${(ready.waitedMs / 1000).toFixed(1)} s${ready.pending.length ? ` (still missing: ${ready.pending.join("; ")})` : ""}`);
        const ovs = defaultOvsAccess({ socket: o.ovsSocket ?? join(o.root, "run/openvswitch/db.sock"), ...(o.ovsWaitMs !== undefined ? { waitMs: o.ovsWaitMs } : {}) });
        const s = await applyNetwork(defaultNetworkEnv({ root: o.root, log: sub("network"), ovs }));
        const vlan = s.vlan !== null ? ` VLAN ${s.vlan}` : "";
        return `${s.interface ?? "?"}${vlan}: ${s.mode ?? "?"} ${s.address ?? "no address yet"}${s.gateway ? ` via ${s.gateway}` : ""}`;
      },
    },
    {
      name: "data",
      async run() {
        const r = await mountData(defaultDataEnv({ log: sub("data") }));
        if (r.state !== "mounted" && r.state !== "already-mounted") throw new Error(`${r.state}: ${r.reason}`);
        return `${r.device ?? "?"} on /data${r.formatted ? " (formatted: it was blank)" : ""}`;
      },
    },
    {
      name: "vswitch",
      after: ["firstboot", "network"],
      async run() {
        const declared = await networkConfigFile(o.root)
          .loadWithFallback()
          .then((r) => r.value?.bridges ?? []);
        if (declared.length === 0) return { skipped: "no Open vSwitch bridge declared in network.yaml" };
        // openvswitch-switch starts beside qx-boot, not before it: its database is
        // initialised once ovs-vswitchd has written its pid file.
        const socket = o.ovsSocket ?? join(o.root, "run/openvswitch/db.sock");
        await waitForOvs(socket, o.ovsWaitMs ?? 60_000).catch((e: Error) => {
          throw new Error(`${e.message}: bridges ${declared.map((b) => b.name).join(", ")} not made; see /var/log/openvswitch and rc-service openvswitch-switch status`);
        });
        const ops = await reconcileBridges(o.root, ovsBridges(process.env["QX_OVS_DB"] ? { db: process.env["QX_OVS_DB"] } : {}));
        return ops.length === 0 ? `bridges ${declared.map((b) => b.name).join(", ")} already as declared` : `${ops.length} change(s): ${ops.map((x) => x.join(" ")).join("; ")}`;
      },
    },
    {
      name: "boot-env",
      async run() {
        const { reconcileBootEnv } = await import("@quantix/update/boot-check");
        const { nodeUpdateContext } = await import("@quantix/update/context");
        const r = await reconcileBootEnv(nodeUpdateContext({ root: o.root, log: sub("boot-env") }));
        if (!r) return { skipped: "not booted from a Quantix-OS slot (live or development system)" };
        return `slot ${r.slot}${r.trying ? " on trial (the health gate follows)" : ""}; ${r.repaired.length ? `repaired: ${r.repaired.join("; ")}` : "boot environment intact"}`;
      },
    },
  ];
}
