import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "../api/test-server.ts";
import { memoryVirt } from "./virt-services.ts";

const NETWORK_YAML = `management:
  interface: auto
  mode: dhcp
# the VM switch (kept across API edits)
bridges:
  - name: qxbr0
networks:
  - name: lan
    bridge: qxbr0
  - name: vlan20
    bridge: qxbr0
    vlan: 20
`;

/** A WebSocket upgrade request to the node: the refusal's status, or the upgraded socket and the first bytes after the 101. */
function upgrade(n: TestNode, path: string, headers: Record<string, string>): Promise<{ status: number; socket?: Duplex; first?: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({
      host: "127.0.0.1",
      port: n.srv.port,
      path,
      ca: n.srv.certificate.certPem,
      servername: "localhost",
      headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": randomBytes(16).toString("base64"), ...headers },
    });
    req.on("response", (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0 });
    });
    req.on("upgrade", (res, socket: Duplex, head: Buffer) => {
      if (head.length > 0) return resolve({ status: res.statusCode ?? 0, socket, first: head });
      socket.once("data", (d: Buffer) => resolve({ status: res.statusCode ?? 0, socket, first: d }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("VM, storage and network API (in-memory hypervisor and switch, real pool directory)", () => {
  let n: TestNode;
  let virt: ReturnType<typeof memoryVirt>;
  const post = (path: string, body: unknown) => n.call("POST", path, { token: n.admin, body });
  before(async () => {
    n = await startTestNode({ "quantix/network.yaml": NETWORK_YAML }, {
      virt: (root) => {
        virt = memoryVirt(root, { hostMemoryMib: 8192 });
        return virt;
      },
    });
  });
  after(() => n.close());

  it("creates a VM with a new disk, lists and gets it; a read token may look but not create", async () => {
    const r = await post("/api/v1/vms", { name: "web-1", memory_mib: 1024, vcpus: 2, disks: [{ volume: "web-1-root", size_mib: 64 }], nics: [{ network: "vlan20" }], autostart: true });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.state, "shutoff");
    assert.equal(r.json.autostart, true);
    assert.equal(r.json.nics[0].vlan, 20);
    assert.equal((await n.call("GET", "/api/v1/vms", { token: n.reader })).json.vms.length, 1);
    assert.equal((await n.call("GET", "/api/v1/vms/web-1", { token: n.reader })).json.memory_mib, 1024);
    assert.equal((await n.call("POST", "/api/v1/vms", { token: n.reader, body: { name: "x", memory_mib: 64 } })).status, 403);
    const vol = await n.call("GET", "/api/v1/storage/volumes/web-1-root", { token: n.reader });
    assert.equal(vol.json.capacity_bytes, 64 * 1024 * 1024);
    assert.deepEqual(vol.json.used_by, ["web-1"]);
  });

  it("bad input: clear 4xx, and no volume or VM is left behind", async () => {
    const vols = async () => (await n.call("GET", "/api/v1/storage/volumes", { token: n.admin })).json.volumes.length;
    const before = [await vols(), virt.hypervisor.domains.size];
    const base = { name: "bad", memory_mib: 64, disks: [{ volume: "bad-root", size_mib: 8 }] };
    const cases: [object, number, RegExp][] = [
      [{ ...base, name: "web-1" }, 409, /a VM named web-1 already exists/],
      [{ ...base, memory_mib: 9000 }, 400, /more than this host has \(8192 MiB\)/],
      [{ ...base, cdrom: "missing.iso" }, 400, /no ISO volume named missing\.iso/],
      [{ ...base, nics: [{ network: "lan", vlan: 0 }] }, 400, /VLAN tag must be 1\.\.4094/],
      [{ ...base, nics: [{ network: "vlan20", vlan: 30 }] }, 400, /is VLAN 20 already/],
      [{ ...base, disks: [{ volume: "web-1-root" }] }, 409, /disk of VM web-1/],
      [{ ...base, disks: [{ volume: "web-1-root", size_mib: 8 }] }, 409, /volume named web-1-root already exists/],
      [{ ...base, memory_mib: "lots" }, 400, /memory_mib/],
      [{ ...base, kernel: { kernel: "vmlinuz", cmdline: "a\nb" } }, 400, /printable/],
    ];
    for (const [body, status, re] of cases) {
      const r = await post("/api/v1/vms", body);
      assert.equal(r.status, status, `${JSON.stringify(body)}: ${r.text}`);
      assert.match(r.json.message, re);
    }
    assert.deepEqual([await vols(), virt.hypervisor.domains.size], before);
  });

  it("a failure after the volumes were made rolls them back", async () => {
    const define = virt.hypervisor.define;
    virt.hypervisor.define = async () => {
      throw new Error("libvirt exploded");
    };
    try {
      const r = await post("/api/v1/vms", { name: "half", memory_mib: 64, disks: [{ volume: "half-root", size_mib: 8 }] });
      assert.equal(r.status, 500);
    } finally {
      virt.hypervisor.define = define;
    }
    assert.equal((await n.call("GET", "/api/v1/storage/volumes/half-root", { token: n.admin })).status, 404);
  });

  it("power actions follow the VM's state; a running VM is deleted only with force", async () => {
    assert.equal((await post("/api/v1/vms/web-1/shutdown", {})).status, 409);
    assert.equal((await post("/api/v1/vms/web-1/start", {})).json.state, "running");
    assert.equal((await post("/api/v1/vms/web-1/start", {})).status, 409);
    assert.equal((await post("/api/v1/vms/web-1/reboot", {})).status, 200);
    const refused = await n.call("DELETE", "/api/v1/vms/web-1", { token: n.admin });
    assert.equal(refused.status, 409);
    assert.match(refused.json.message, /force=true/);
    const busy = await n.call("PUT", "/api/v1/storage/volumes/web-1-root/size", { token: n.admin, body: { size_mib: 128 } });
    assert.equal(busy.status, 409, "no resize under a running VM");
    const del = await n.call("DELETE", "/api/v1/vms/web-1?force=true&delete_disks=true", { token: n.admin });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.json.volumes_deleted, ["web-1-root"]);
    assert.equal((await n.call("GET", "/api/v1/vms/web-1", { token: n.admin })).status, 404);
  });

  it("volumes: create, grow (never shrink), upload, delete; names cannot leave the pool", async () => {
    assert.equal((await post("/api/v1/storage/volumes", { name: "data1", size_mib: 10 })).status, 201);
    assert.equal((await post("/api/v1/storage/volumes", { name: "data1", size_mib: 10 })).status, 409);
    assert.equal((await n.call("PUT", "/api/v1/storage/volumes/data1/size", { token: n.admin, body: { size_mib: 20 } })).json.capacity_bytes, 20 * 1024 * 1024);
    assert.equal((await n.call("PUT", "/api/v1/storage/volumes/data1/size", { token: n.admin, body: { size_mib: 5 } })).status, 409);
    const iso = Buffer.alloc(300_000, 7);
    const up = await n.call("PUT", "/api/v1/storage/volumes/tiny.iso/content", { token: n.admin, raw: iso, headers: { "content-type": "application/octet-stream" } });
    assert.equal(up.status, 201, up.text);
    assert.equal(up.json.format, "iso");
    assert.deepEqual(await readFile(join(virt.pool.dir, "tiny.iso")), iso);
    for (const bad of ["..%2f..%2fetc%2fpasswd", "%2e%2e", "a%2fb"]) {
      assert.equal((await n.call("PUT", `/api/v1/storage/volumes/${bad}/content`, { token: n.admin, raw: "x", headers: { "content-type": "application/octet-stream" } })).status, 400, bad);
    }
    const pool = await n.call("GET", "/api/v1/storage", { token: n.reader });
    assert.equal(pool.json.volumes, 2);
    assert.ok(pool.json.capacity_bytes > 0);
    assert.equal((await n.call("DELETE", "/api/v1/storage/volumes/data1", { token: n.admin })).status, 200);
  });

  it("networks: added to network.yaml (comments kept), reconciled into the switch, refused while in use", async () => {
    const r = await post("/api/v1/networks", { name: "dmz", bridge: "qxbr0", vlan: 300 });
    assert.equal(r.status, 201, r.text);
    assert.equal(virt.ovs.bridges.get("qxbr0")?.managed, true);
    const yaml = await readFile(join(n.root, "quantix/network.yaml"), "utf8");
    assert.match(yaml, /name: dmz[\s\S]*vlan: 300/);
    assert.match(yaml, /# the VM switch \(kept across API edits\)/);
    assert.equal((await post("/api/v1/networks", { name: "dmz", bridge: "qxbr0" })).status, 409);
    assert.equal((await post("/api/v1/networks", { name: "x", bridge: "nosuch" })).status, 400);
    assert.equal((await post("/api/v1/networks", { name: "y", bridge: "qxbr0", vlan: 4095 })).status, 400);
    assert.equal((await post("/api/v1/vms", { name: "dmz-vm", memory_mib: 64, nics: [{ network: "dmz" }] })).status, 201);
    assert.equal((await n.call("DELETE", "/api/v1/networks/dmz", { token: n.admin })).status, 409);
    assert.equal((await n.call("DELETE", "/api/v1/networks/bridges/qxbr0", { token: n.admin })).status, 409);
    assert.equal((await n.call("DELETE", "/api/v1/vms/dmz-vm", { token: n.admin })).status, 200);
    assert.equal((await n.call("DELETE", "/api/v1/networks/dmz", { token: n.admin })).status, 200);
    const list = await n.call("GET", "/api/v1/networks", { token: n.reader });
    assert.deepEqual(list.json.networks.map((x: { name: string }) => x.name), ["lan", "vlan20"]);
    assert.deepEqual((await post("/api/v1/networks/reconcile", {})).json.operations, []);
  });

  it("the bridge that carries the management network cannot be deleted", async () => {
    assert.equal((await post("/api/v1/networks/bridges", { name: "mgmtbr", uplinks: [] })).status, 201);
    const file = join(n.root, "quantix/network.yaml");
    const before = await readFile(file, "utf8");
    await writeFile(file, before.replace("  mode: dhcp\n", "  mode: dhcp\n  bridge: mgmtbr\n"));
    try {
      const r = await n.call("DELETE", "/api/v1/networks/bridges/mgmtbr", { token: n.admin });
      assert.equal(r.status, 409);
      assert.match(r.text, /carries the management network/);
    } finally {
      await writeFile(file, before);
    }
    assert.equal((await n.call("DELETE", "/api/v1/networks/bridges/mgmtbr", { token: n.admin })).status, 200);
  });

  it("the console is a WebSocket: a plain GET gets 426", async () => {
    await post("/api/v1/vms", { name: "c1", memory_mib: 64 });
    const plain = await n.call("GET", "/api/v1/vms/c1/console", { token: n.admin });
    assert.equal(plain.status, 426);
  });

  it("the console and VNC WebSockets: 401 without a valid credential, 403 for a read token; an admin gets the VM's RFB stream", async () => {
    await post("/api/v1/vms/c1/start", {});
    for (const kind of ["console", "vnc"]) {
      const path = `/api/v1/vms/c1/${kind}`;
      assert.equal((await upgrade(n, path, {})).status, 401, `${kind} without a token`);
      assert.equal((await upgrade(n, path, { authorization: "Bearer qx_nope" })).status, 401, `${kind} with an unknown token`);
      assert.equal((await upgrade(n, path, { "sec-websocket-protocol": "qx-console, qx-auth.qx_nope" })).status, 401, `${kind} with an unknown token as subprotocol`);
      assert.equal((await upgrade(n, path, { authorization: `Bearer ${n.reader}` })).status, 403, `${kind} with a read token`);
    }
    // A VNC server on the VM's socket (QEMU's, on a node) greets; the greeting arrives as one binary frame.
    const vnc = createServer((c) => c.end("RFB 003.008\n"));
    await new Promise<void>((r) => vnc.listen(join(n.root, "run/quantix/vms/c1.vnc"), r));
    try {
      const r = await upgrade(n, "/api/v1/vms/c1/vnc", { "sec-websocket-protocol": `qx-console, qx-auth.${n.admin}` });
      assert.equal(r.status, 101);
      assert.deepEqual(r.first?.subarray(0, 2), Buffer.from([0x82, 12]), "an unmasked binary frame of 12 bytes");
      assert.equal(r.first?.subarray(2, 14).toString(), "RFB 003.008\n");
      r.socket?.destroy();
    } finally {
      vnc.close();
    }
    await post("/api/v1/vms/c1/force-off", {});
  });
});

describe("storage pool on /data", () => {
  it("writes nothing while the mount point it needs is not mounted", async () => {
    const { mkdtemp, writeFile, rm, readdir } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { storagePool } = await import("./storage-pool.ts");
    const dir = await mkdtemp(join(tmpdir(), "qx-pool-"));
    try {
      const mi = join(dir, "mountinfo");
      await writeFile(mi, "22 1 0:21 / / rw,relatime - overlay overlay rw\n");
      const pool = storagePool(join(dir, "volumes"), { requireMount: "/data", mountinfo: mi });
      await assert.rejects(pool.create("v1", 1), /\/data is not mounted/);
      assert.deepEqual(await readdir(dir), ["mountinfo"], "not even the pool directory was made");
      await writeFile(mi, "22 1 0:21 / / rw - overlay overlay rw\n30 22 254:5 / /data rw,noatime - xfs /dev/vda5 rw\n");
      assert.equal((await pool.create("v1", 1)).capacity_bytes, 1024 * 1024);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
