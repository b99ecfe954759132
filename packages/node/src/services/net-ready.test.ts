import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { defaultNetReadyEnv, type NetReadyEnv, pendingNetPorts, waitForNetPorts } from "./net-ready.ts";

let dir: string;
let sys: string;
let udev: string;

/** A PCI network controller; with `iface`, its interface (under virtio0 when `virtio`). */
async function nic(addr: string, o: { iface?: string; ifindex?: number; virtio?: boolean; driver?: boolean; modalias?: string }): Promise<void> {
  const dev = join(sys, "bus/pci/devices", addr);
  await mkdir(dev, { recursive: true });
  await writeFile(join(dev, "class"), "0x020000\n");
  await writeFile(join(dev, "modalias"), `${o.modalias ?? "pci:v00001AF4d00001000"}\n`);
  if (o.driver ?? o.iface !== undefined) await mkdir(join(dev, "driver"));
  if (o.iface === undefined) return;
  const netDir = join(dev, o.virtio ? "virtio0/net" : "net", o.iface);
  await mkdir(netDir, { recursive: true });
  await writeFile(join(netDir, "ifindex"), `${o.ifindex}\n`);
  await mkdir(join(sys, "class/net"), { recursive: true });
  await symlink(netDir, join(sys, "class/net", o.iface));
  await symlink(dev, join(netDir, "device"));
}

const named = (ifindex: number) => writeFile(join(udev, "data", `n${ifindex}`), "I:1\n");

function env(over: Partial<NetReadyEnv> = {}): NetReadyEnv {
  return defaultNetReadyEnv({ sysRoot: sys, udevData: join(udev, "data"), udevControl: join(udev, "control"), hasDriver: async () => true, timeoutMs: 2000, pollMs: 10, ...over });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "qx-netready-"));
  sys = join(dir, "sys");
  udev = join(dir, "udev");
  await mkdir(join(udev, "data"), { recursive: true });
  await writeFile(join(udev, "control"), "");
  await mkdir(join(sys, "class/net"), { recursive: true });
  await mkdir(join(sys, "bus/pci/devices"), { recursive: true });
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe("network ports ready (no udev settle)", () => {
  it("waits for a NIC until udev has processed it, virtio or plain PCI", async () => {
    await nic("0000:00:02.0", { iface: "eth0", ifindex: 2, virtio: true });
    await nic("0000:00:03.0", { iface: "eth1", ifindex: 3 });
    assert.deepEqual(await pendingNetPorts(env()), ["eth0: not yet named by udev", "eth1: not yet named by udev"]);
    await named(2);
    assert.deepEqual(await pendingNetPorts(env()), ["eth1: not yet named by udev"]);
    await named(3);
    assert.deepEqual(await pendingNetPorts(env()), []);
  });

  it("waits for a controller whose driver is still loading, skips one the image has no driver for", async () => {
    await nic("0000:00:02.0", { driver: false, modalias: "pci:known" });
    await nic("0000:00:04.0", { driver: false, modalias: "pci:unknown" });
    const logs: string[] = [];
    const e = env({ hasDriver: async (a) => a === "pci:known", log: (l) => logs.push(l) });
    assert.deepEqual(await pendingNetPorts(e), ["network controller 0000:00:02.0: no interface yet"]);
    assert.match(logs.join("\n"), /0000:00:04.0 has no driver in this image/);
  });

  it("returns as soon as the last port is named, with the time waited", async () => {
    await nic("0000:00:02.0", { iface: "enp0s2", ifindex: 2, virtio: true });
    setTimeout(() => void named(2), 150);
    const r = await waitForNetPorts(env());
    assert.deepEqual(r.pending, []);
    assert.ok(r.waitedMs >= 100 && r.waitedMs < 1500, `waited ${r.waitedMs} ms`);
  });

  it("gives up at the deadline and says what was missing", async () => {
    await nic("0000:00:02.0", { iface: "eth0", ifindex: 2 });
    const logs: string[] = [];
    const r = await waitForNetPorts(env({ timeoutMs: 100, log: (l) => logs.push(l) }));
    assert.deepEqual(r.pending, ["eth0: not yet named by udev"]);
    assert.match(logs.join("\n"), /still waiting for: eth0: not yet named by udev; going on/);
  });

  it("waits for nothing when udev does not run", async () => {
    await nic("0000:00:02.0", { iface: "eth0", ifindex: 2 });
    await rm(join(udev, "control"));
    assert.deepEqual(await waitForNetPorts(env()), { waitedMs: 0, pending: [], skipped: true });
  });

  it("counts interfaces with a device outside PCI (a USB NIC), not virtual ones", async () => {
    const usb = join(sys, "devices/usb1/1-1/1-1:1.0/net/usb0");
    await mkdir(usb, { recursive: true });
    await writeFile(join(usb, "ifindex"), "7\n");
    await symlink(join(sys, "devices/usb1/1-1/1-1:1.0"), join(usb, "device"));
    await symlink(usb, join(sys, "class/net/usb0"));
    await mkdir(join(sys, "devices/virtual/net/br0"), { recursive: true });
    await symlink(join(sys, "devices/virtual/net/br0"), join(sys, "class/net/br0"));
    assert.deepEqual(await pendingNetPorts(env()), ["usb0: not yet named by udev"]);
  });
});
