/**
 * Integration: qx-node's VM, storage and network API against a real libvirtd and a
 * real ovs-vswitchd (userspace datapath) in private namespaces (see virt-host), QEMU
 * under TCG. A tiny guest (a kernel from the host or a build rootfs plus a BusyBox
 * initramfs made here) is created, started, talked to over its serial console through
 * the API's WebSocket (its VNC server greets through the VNC WebSocket and shows in
 * the web UI's noVNC viewer in chromium), stopped and deleted; its NIC on a VLAN
 * network gets the OVS tag.
 * Every piece this machine cannot run is skipped with the reason printed.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "../../packages/node/src/api/test-server.ts";
import { virshDriver } from "../../packages/node/src/virt/virsh-driver.ts";
import { defaultVirt } from "../../packages/node/src/virt/virt-services.ts";
import { contractXml, hypervisorContract } from "../../packages/node/src/virt/hypervisor-contract.ts";
import { SETTLE_MS } from "../../packages/node/src/virt/virsh-events.ts";
import { findKernel, makeInitramfs, startVirtHost, type VirtHost } from "./virt-host.ts";
import { connectWs } from "./virt-ws-client.ts";
import { loadWebAssets } from "../../packages/node/src/web-assets.ts";
import { CHROMIUM, hasChromium, launchChromium } from "@quantix/web/test-browser";

const REPO = resolve(import.meta.dirname, "../..");
const NETWORK_YAML = `management:
  interface: auto
  mode: dhcp
# VM networking (reconciled into Open vSwitch)
bridges:
  - name: qxbr0
    datapath: netdev
networks:
  - name: lan
    bridge: qxbr0
  - name: vlan100
    bridge: qxbr0
    vlan: 100
`;

let host: VirtHost | null = null;
let skip: string | false = false;
try {
  const h = await startVirtHost();
  if ("skip" in h) skip = h.skip;
  else host = h;
} catch (e) {
  skip = `the private libvirtd/OVS did not start: ${(e as Error).message.slice(0, 500)}`;
}
if (skip) console.log(`# virt integration skipped: ${skip}`);
after(() => host?.stop());

describe("virsh driver: the hypervisor contract against a real libvirtd", { skip }, () => {
  hypervisorContract(() => virshDriver({ uri: host?.uri ?? "", accel: "qemu" }), { prefix: "qxc-" });
});

describe("virsh driver: the cached list follows changes made outside qx-node (libvirt events)", { skip, timeout: 120_000 }, () => {
  it("a domain redefined, then undefined, with virsh directly shows in the next lists", async () => {
    const h = host as VirtHost;
    const hv = virshDriver({ uri: h.uri, accel: "qemu" });
    const uuid = crypto.randomUUID();
    const file = join(h.dir, "qxe-a.xml");
    const memory = async () => (await hv.list()).find((d) => d.name === "qxe-a")?.xml.match(/<memory unit='KiB'>(\d+)</)?.[1];
    await writeFile(file, contractXml("qxe-a", uuid, 64));
    await h.virsh("define", file);
    try {
      await hv.list(); // starts the event watcher
      await new Promise((r) => setTimeout(r, SETTLE_MS + 200));
      assert.equal(await memory(), "65536");
      assert.equal(await memory(), "65536", "served from the cache");
      await writeFile(file, contractXml("qxe-a", uuid, 80));
      await h.virsh("define", file);
      const end = Date.now() + 10_000;
      while ((await memory()) !== "81920" && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await memory(), "81920", "the list shows the new definition");
    } finally {
      await h.virsh("undefine", "qxe-a").catch(() => undefined);
    }
    assert.equal(await memory(), undefined);
  });

  it("reports lifecycle changes made with virsh directly to watchers (the event log's source)", async () => {
    const h = host as VirtHost;
    const hv = virshDriver({ uri: h.uri, accel: "qemu" });
    const seen: string[] = [];
    const unwatch = hv.watch((e) => {
      if (e.name === "qxe-w") seen.push(`${e.event} ${e.detail ?? ""}`.trim());
    });
    const file = join(h.dir, "qxe-w.xml");
    try {
      await new Promise((r) => setTimeout(r, SETTLE_MS + 200));
      await writeFile(file, contractXml("qxe-w"));
      await h.virsh("define", file);
      await h.virsh("undefine", "qxe-w");
      const end = Date.now() + 10_000;
      while (seen.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(seen, ["Defined Added", "Undefined Removed"]);
    } finally {
      unwatch();
      await h.virsh("undefine", "qxe-w").catch(() => undefined);
    }
  });
});

describe("VMs, storage and networks through the API (real libvirtd + OVS, QEMU TCG)", { skip, timeout: 900_000 }, () => {
  let n: TestNode;
  let h: VirtHost;
  let kernel: string | null = null;
  let initrd: string | null = null;
  const admin = () => n.admin;
  const vmNames = async () => (await h.virsh("list", "--all", "--name")).split("\n").map((s) => s.trim()).filter(Boolean);
  const volumes = async () => (await n.call("GET", "/api/v1/storage/volumes", { token: admin() })).json.volumes.map((v: { name: string }) => v.name).sort();

  before(async () => {
    h = host as VirtHost;
    const env = { QX_LIBVIRT_URI: h.uri, QX_VIRT_ACCEL: "qemu", QX_OVS_DB: h.ovsDb, QX_POOL_DIR: h.poolDir, QX_CONSOLE_DIR: h.consoleDir };
    n = await startTestNode({ "quantix/network.yaml": NETWORK_YAML }, { virt: (root) => defaultVirt(root, env), web: await loadWebAssets() });
    kernel = await findKernel(REPO);
    initrd = await makeInitramfs(join(h.dir, "initrd.cpio"));
    if (!kernel) console.log("# no kernel found (QX_TEST_KERNEL, /boot/vmlinuz*, build/*/rootfs/boot/vmlinuz): the boot steps are skipped");
    if (!initrd) console.log("# no static BusyBox (package busybox-static): the boot steps are skipped");
  });
  after(() => n?.close());

  it("reconciles the OVS bridge from network.yaml, idempotently", async () => {
    const r1 = await n.call("POST", "/api/v1/networks/reconcile", { token: admin() });
    assert.equal(r1.status, 200, r1.text);
    assert.ok(r1.json.operations.length > 0, "the first reconcile creates the bridge");
    assert.equal((await h.vsctl("get", "Bridge", "qxbr0", "datapath_type")).trim(), "netdev");
    const r2 = await n.call("POST", "/api/v1/networks/reconcile", { token: admin() });
    assert.deepEqual(r2.json.operations, [], "a second reconcile has nothing to do");
    const list = await n.call("GET", "/api/v1/networks", { token: n.reader });
    assert.equal(list.json.bridges[0].present, true);
    assert.deepEqual(list.json.networks.map((x: { name: string; vlan?: number }) => [x.name, x.vlan ?? null]), [["lan", null], ["vlan100", 100]]);
  });

  it("uploads the kernel and initramfs as volumes (streamed)", async (t) => {
    if (!kernel || !initrd) return t.skip("no kernel or BusyBox");
    for (const [name, file] of [["vmlinuz", kernel], ["initrd.img", initrd]] as const) {
      const body = await readFile(file);
      const r = await n.call("PUT", `/api/v1/storage/volumes/${name}/content`, { token: admin(), raw: body, headers: { "content-type": "application/octet-stream" } });
      assert.equal(r.status, 201, r.text);
      assert.equal(r.json.capacity_bytes, body.length);
    }
    const again = await n.call("PUT", "/api/v1/storage/volumes/vmlinuz/content", { token: admin(), raw: "x", headers: { "content-type": "application/octet-stream" } });
    assert.equal(again.status, 409);
  });

  it("refuses bad specs with a 4xx and leaves nothing behind", async () => {
    const base = { name: "qxt-bad", memory_mib: 64, disks: [{ volume: "qxt-bad-root", size_mib: 8 }] };
    const before = await volumes();
    const cases: [string, object, number, RegExp][] = [
      ["memory larger than the host", { ...base, memory_mib: 16 * 1024 * 1024 }, 400, /more than this host has/],
      ["missing ISO", { ...base, cdrom: "nope.iso" }, 400, /no ISO volume named nope\.iso/],
      ["VLAN out of range", { ...base, nics: [{ network: "lan", vlan: 5000 }] }, 400, /VLAN tag must be 1\.\.4094/],
      ["VLAN on a VLAN network", { ...base, nics: [{ network: "vlan100", vlan: 7 }] }, 400, /is VLAN 100 already/],
      ["unknown network", { ...base, nics: [{ network: "nosuch" }] }, 400, /no network named nosuch/],
      ["XML injection in the name", { ...base, name: "x'/><devices>" }, 400, /name/],
      ["path traversal in a volume", { ...base, disks: [{ volume: "../../etc/passwd" }] }, 400, /volume/],
    ];
    for (const [what, body, status, re] of cases) {
      const r = await n.call("POST", "/api/v1/vms", { token: admin(), body });
      assert.equal(r.status, status, `${what}: ${r.text}`);
      assert.match(r.json.message, re, what);
    }
    assert.deepEqual(await vmNames(), []);
    assert.deepEqual(await volumes(), before);
  });

  it("a VM whose start fails is not left defined, and its new disk is removed again", async (t) => {
    if (!kernel || !initrd) return t.skip("no kernel or BusyBox");
    // A boot-protocol 1.0 "kernel" with an initramfs: libvirt defines the domain, QEMU
    // then exits at start ("linux kernel too old to load a ram disk").
    const junk = Buffer.alloc(8192);
    junk.write("HdrS", 0x202, "latin1");
    junk.writeUInt16LE(0x0100, 0x206);
    const up = await n.call("PUT", "/api/v1/storage/volumes/junk-kernel/content", { token: admin(), raw: junk, headers: { "content-type": "application/octet-stream" } });
    assert.equal(up.status, 201, up.text);
    const before = await volumes();
    const r = await n.call("POST", "/api/v1/vms", {
      token: admin(),
      body: { name: "qxt-nostart", memory_mib: 64, disks: [{ volume: "qxt-nostart-root", size_mib: 8 }], kernel: { kernel: "junk-kernel", initrd: "initrd.img" }, start: true },
    });
    assert.equal(r.status, 502, r.text);
    assert.match(r.json.message, /^libvirt: /);
    assert.deepEqual(await vmNames(), []);
    assert.deepEqual(await volumes(), before);
    assert.equal((await n.call("DELETE", "/api/v1/storage/volumes/junk-kernel", { token: admin() })).status, 200);
  });

  it("creates and starts a tiny VM on a VLAN network; its OVS port carries the tag; the console answers", async (t) => {
    if (!kernel || !initrd) return t.skip("no kernel or BusyBox");
    const spec = {
      name: "qxt-vm1",
      description: "a </description><devices> 'quoted' & tested",
      vcpus: 1,
      memory_mib: 96,
      disks: [{ volume: "qxt-vm1-root", size_mib: 16 }],
      nics: [{ network: "vlan100" }],
      kernel: { kernel: "vmlinuz", initrd: "initrd.img", cmdline: "console=ttyS0 panic=-1" },
      start: true,
    };
    const r = await n.call("POST", "/api/v1/vms", { token: admin(), body: spec });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.state, "running");
    assert.equal(r.json.description, spec.description, "the description went through XML unharmed");
    assert.equal(r.json.nics[0].vlan, 100);
    assert.equal(r.json.disks[0].volume, "qxt-vm1-root");

    const dup = await n.call("POST", "/api/v1/vms", { token: admin(), body: { ...spec, disks: [] } });
    assert.equal(dup.status, 409, dup.text);
    assert.match(dup.json.message, /already exists/);

    const port = r.json.nics[0].port as string;
    assert.match(port, /^vnet\d+$/);
    assert.equal((await h.vsctl("get", "Port", port, "tag")).trim(), "100");
    assert.equal((await h.vsctl("port-to-br", port)).trim(), "qxbr0");

    const list = await n.call("GET", "/api/v1/vms", { token: n.reader });
    assert.deepEqual(list.json.vms.map((v: { name: string; state: string }) => [v.name, v.state]), [["qxt-vm1", "running"]]);

    const ws = await connectWs({ port: n.srv.port, ca: n.srv.certificate.certPem, path: "/api/v1/vms/qxt-vm1/console", token: admin() });
    try {
      await ws.waitFor(/QX-GUEST-READY/, 240_000);
      ws.send("hello-from-api\n");
      await ws.waitFor(/QX-ECHO:hello-from-api/, 30_000);
    } finally {
      ws.close();
    }
    const vnc = await connectWs({ port: n.srv.port, ca: n.srv.certificate.certPem, path: "/api/v1/vms/qxt-vm1/vnc", token: admin() });
    try {
      await vnc.waitFor(/^RFB 003\.008\n/, 30_000);
    } finally {
      vnc.close();
    }
    const anonymous = await connectWs({ port: n.srv.port, ca: n.srv.certificate.certPem, path: "/api/v1/vms/qxt-vm1/vnc" }).catch((e: { status?: number }) => e);
    assert.equal((anonymous as { status?: number }).status, 401, "no display without a credential");
    const reader = await connectWs({ port: n.srv.port, ca: n.srv.certificate.certPem, path: "/api/v1/vms/qxt-vm1/console", token: n.reader }).catch((e: { status?: number }) => e);
    assert.equal((reader as { status?: number }).status, 403, "a read token gets no console");
  });

  it("the web UI shows the VM's display: noVNC in chromium through the API to QEMU's VNC server", async (t) => {
    if (!kernel || !initrd) return t.skip("no kernel or BusyBox");
    if (!hasChromium()) return t.skip(`${CHROMIUM} is not installed`);
    const browser = await launchChromium();
    const ctx = browser.ctx;
    try {
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`https://127.0.0.1:${n.srv.port}/`);
      await page.fill("#login-password", n.password);
      await page.click("#login-submit");
      await page.click('nav button[data-view="VMs"]');
      await page.click('tr[data-vm="qxt-vm1"] button[data-action="display"]', { timeout: 30_000 });
      await page.locator('#vm-vnc-status[data-status="connected"]').waitFor({ timeout: 60_000 });
      await page.locator("#vm-vnc canvas").waitFor();
      assert.deepEqual(errors, []);
    } finally {
      await browser.close();
    }
  });

  it("will not delete a running VM without force; force-off, then delete with its disks", async (t) => {
    if (!kernel || !initrd) return t.skip("no kernel or BusyBox");
    const refused = await n.call("DELETE", "/api/v1/vms/qxt-vm1", { token: admin() });
    assert.equal(refused.status, 409, refused.text);
    assert.match(refused.json.message, /running.*force=true/);
    assert.deepEqual(await vmNames(), ["qxt-vm1"]);

    const off = await n.call("POST", "/api/v1/vms/qxt-vm1/force-off", { token: admin() });
    assert.equal(off.status, 200, off.text);
    assert.equal(off.json.state, "shutoff");
    const again = await n.call("POST", "/api/v1/vms/qxt-vm1/shutdown", { token: admin() });
    assert.equal(again.status, 409, "shutting down a stopped VM is refused");

    const del = await n.call("DELETE", "/api/v1/vms/qxt-vm1?delete_disks=true", { token: admin() });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json.volumes_deleted, ["qxt-vm1-root"]);
    assert.deepEqual(await vmNames(), []);
    assert.deepEqual(await volumes(), ["initrd.img", "vmlinuz"]);
  });
});
