/**
 * @module services/net-ready
 * Waits (bounded) until every network port of the machine has its final name, so the
 * management network can be configured without `udevadm settle` on the boot path.
 *
 * udev renames a NIC (`eth0` → `enp0s2`) while it processes the NIC's add event, and a
 * link that is already up cannot be renamed: configuring the network before udev got
 * to the NICs leaves kernel names that change from boot to boot. Waiting for the whole
 * coldplug queue (`udevadm settle`, tens of seconds of disks, input devices and the
 * hardware database under emulation) is more than this step needs. It needs:
 *
 * - every network controller (PCI class 02, including virtio-net behind virtio-pci)
 *   bound to its driver, unless the image has no driver for it (`modprobe -R` of its
 *   modalias resolves to nothing): such a port would never appear;
 * - each interface those drivers made, and every other interface with a device behind
 *   it (USB NICs), processed by udev: its udev database entry (`/run/udev/data/n<ifindex>`,
 *   what `udevadm info` reads) exists.
 *
 * When udev is not running (`/run/udev/control` absent: a container or a development
 * system) nothing is waited for.
 *
 * @example
 * ```ts
 * const r = await waitForNetPorts(defaultNetReadyEnv({ log }));
 * r.pending; // [] once every port is named; else what was still missing at the deadline
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { run as coreRun } from "@quantix/core";

export interface NetReadyEnv {
  readonly sysRoot: string;
  /** udev's database directory (`/run/udev/data`). */
  readonly udevData: string;
  /** Present while udevd runs (`/run/udev/control`). */
  readonly udevControl: string;
  /** Whether the image has a kernel module for this modalias. */
  readonly hasDriver: (modalias: string) => Promise<boolean>;
  readonly timeoutMs: number;
  readonly pollMs: number;
  readonly log: (line: string) => void;
}

export function defaultNetReadyEnv(over: Partial<NetReadyEnv> = {}): NetReadyEnv {
  return {
    sysRoot: "/sys",
    udevData: "/run/udev/data",
    udevControl: "/run/udev/control",
    hasDriver: async (modalias) => {
      const r = await coreRun("modprobe", ["-R", modalias], { allowFailure: true, timeoutMs: 10_000 });
      return r.exitCode === 0 && r.stdout.trim() !== "";
    },
    timeoutMs: 30_000,
    pollMs: 100,
    log: () => undefined,
    ...over,
  };
}

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);
const read = (p: string) => fs.readFile(p, "utf8").then((s) => s.trim(), () => null);
const list = (p: string) => fs.readdir(p).catch(() => [] as string[]);

/** Interfaces a device directory carries: `net/*` of the device, or of its virtio child. */
async function interfacesOf(dev: string): Promise<string[]> {
  const direct = await list(join(dev, "net"));
  if (direct.length) return direct;
  const out: string[] = [];
  for (const child of await list(dev)) if (/^virtio\d+$/.test(child)) out.push(...(await list(join(dev, child, "net"))));
  return out;
}

/** What still keeps the network ports from being final, one phrase each (empty: ready). */
export async function pendingNetPorts(env: NetReadyEnv, noDriver = new Set<string>()): Promise<string[]> {
  const pending: string[] = [];
  const initialized = async (name: string) => {
    const ifindex = await read(join(env.sysRoot, "class/net", name, "ifindex"));
    return ifindex !== null && (await exists(join(env.udevData, `n${ifindex}`)));
  };
  const pci = join(env.sysRoot, "bus/pci/devices");
  const seen = new Set<string>();
  for (const addr of await list(pci)) {
    const dev = join(pci, addr);
    if (!(await read(join(dev, "class")))?.startsWith("0x02")) continue;
    const names = await interfacesOf(dev);
    if (names.length === 0) {
      if (noDriver.has(addr)) continue;
      const alias = await read(join(dev, "modalias"));
      if ((await exists(join(dev, "driver"))) || (alias && (await env.hasDriver(alias)))) pending.push(`network controller ${addr}: no interface yet`);
      else {
        noDriver.add(addr);
        env.log(`network controller ${addr} has no driver in this image: skipped`);
      }
      continue;
    }
    for (const n of names) {
      seen.add(n);
      if (!(await initialized(n))) pending.push(`${n}: not yet named by udev`);
    }
  }
  for (const n of await list(join(env.sysRoot, "class/net"))) {
    if (seen.has(n) || !(await exists(join(env.sysRoot, "class/net", n, "device")))) continue;
    if (!(await initialized(n))) pending.push(`${n}: not yet named by udev`);
  }
  return pending;
}

export interface NetReadyResult {
  readonly waitedMs: number;
  /** Still missing at the deadline (empty: every port ready). */
  readonly pending: string[];
  /** udev was not running: nothing waited for. */
  readonly skipped: boolean;
}

/** Polls {@link pendingNetPorts} until it is empty or `timeoutMs` passed. */
export async function waitForNetPorts(env: NetReadyEnv): Promise<NetReadyResult> {
  const t0 = Date.now();
  if (!(await exists(env.udevControl))) return { waitedMs: 0, pending: [], skipped: true };
  const noDriver = new Set<string>();
  for (;;) {
    const pending = await pendingNetPorts(env, noDriver);
    const waitedMs = Date.now() - t0;
    if (pending.length === 0) return { waitedMs, pending, skipped: false };
    if (waitedMs >= env.timeoutMs) {
      env.log(`after ${(waitedMs / 1000).toFixed(1)} s still waiting for: ${pending.join("; ")}; going on with the ports as they are`);
      return { waitedMs, pending, skipped: false };
    }
    await new Promise((r) => setTimeout(r, env.pollMs));
  }
}
