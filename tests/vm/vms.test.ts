/**
 * VM tier, hosting VMs: inside a booted Quantix-OS image, qx-node creates and starts
 * a tiny guest through its API (libvirtd and Open vSwitch of the image, QEMU TCG
 * nested in the TCG test VM): a kernel and a BusyBox initramfs are uploaded as pool
 * volumes on /data, a bridge and a VLAN network are added (reconciled into the
 * image's OVS), the VM is created with start: true and is seen running; its serial
 * console log (kept by the guest side) shows the BusyBox init; then it is deleted.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { findKernel, makeInitramfs } from "../integration/virt-host.ts";
import { Vm } from "./lib/qemu.ts";

const DISK = process.env.QX_DISK;
const REPO = resolve(import.meta.dirname, "../..");

/** PUTs raw bytes to the node's API (certificate pinned by the ApiClient's fingerprint). */
function putRaw(vm: Vm, path: string, token: string, body: Buffer): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = request(
      new URL(path, vm.api.baseUrl),
      {
        method: "PUT",
        rejectUnauthorized: false,
        agent: false,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/octet-stream", "content-length": String(body.length) },
        timeout: 300_000,
      },
      (res) => {
        const fp = (res.socket as unknown as { getPeerCertificate(): { fingerprint256?: string } }).getPeerCertificate().fingerprint256 ?? "";
        if (vm.api.pin && fp.toUpperCase() !== vm.api.pin.toUpperCase()) return fail(new Error(`certificate ${fp} is not the pinned ${vm.api.pin}`));
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => ok({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on("error", fail);
    req.end(body);
  });
}

describe("hosting VMs (VM)", { timeout: 20 * 60_000 }, () => {
  let vm: Vm;
  let passed = true;
  let token = "";
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await vm.api.request(method, path, body, { authorization: `Bearer ${token}` }, 120_000);
    return { status: r.status, text: r.body, json: r.body ? (JSON.parse(r.body) as Record<string, unknown>) : {} };
  };
  before(async () => {
    assert.ok(DISK, "QX_DISK must name the disk image (make vm-test sets it)");
    vm = await Vm.start({ name: "vms", disk: DISK, memoryMiB: 3072 });
    process.stdout.write(`# VM run dir ${vm.runDir} (accel ${vm.accel})\n`);
  });
  after(async () => {
    await vm?.stop();
    if (passed) vm?.cleanup();
    else process.stdout.write(`# VM logs kept: ${vm?.serialLog}\n`);
  });

  it("creates and starts a tiny VM through the API and sees it running", async () => {
    try {
      const kernel = await findKernel(REPO);
      assert.ok(kernel, "a kernel for the nested guest (QX_TEST_KERNEL or build/*/rootfs/boot/vmlinuz)");
      const initrd = await makeInitramfs(join(vm.runDir, "initrd.cpio"));
      assert.ok(initrd, "a static BusyBox on the host (busybox-static)");
      await vm.waitHealth(300_000);
      await vm.agent.waitReady(60_000);
      const password = (await vm.agent.check("cat /run/quantix/initial-admin-password")).trim();
      const login = await vm.api.request("POST", "/api/v1/auth/login", { username: "admin", password });
      assert.equal(login.status, 200, login.body);
      token = login.json<{ token: string }>().token;

      for (const [name, file] of [["vmlinuz", kernel], ["initrd.img", initrd]] as const) {
        const r = await putRaw(vm, `/api/v1/storage/volumes/${name}/content`, token, await readFile(file));
        assert.equal(r.status, 201, `${name}: ${r.text}`);
      }
      const pool = await call("GET", "/api/v1/storage");
      assert.equal(pool.json["filesystem"], "xfs", pool.text);

      const br = await call("POST", "/api/v1/networks/bridges", { name: "qxbr0" });
      assert.equal(br.status, 201, br.text);
      const net = await call("POST", "/api/v1/networks", { name: "vlan42", bridge: "qxbr0", vlan: 42 });
      assert.equal(net.status, 201, net.text);
      assert.match(await vm.agent.check("ovs-vsctl br-exists qxbr0 && echo present"), /present/);

      const t0 = Date.now();
      const created = await call("POST", "/api/v1/vms", {
        name: "tiny",
        memory_mib: 96,
        nics: [{ network: "vlan42" }],
        kernel: { kernel: "vmlinuz", initrd: "initrd.img", cmdline: "console=ttyS0" },
        start: true,
      });
      assert.equal(created.status, 201, created.text);
      process.stdout.write(`# create+start through the API in the nested node: ${Date.now() - t0} ms\n`);
      const list = await call("GET", "/api/v1/vms");
      const vms = list.json["vms"] as { name: string; state: string; nics: { port: string; vlan: number }[] }[];
      assert.deepEqual(vms.map((v) => [v.name, v.state]), [["tiny", "running"]]);
      const port = vms[0]?.nics[0]?.port ?? "";
      assert.equal((await vm.agent.check(`ovs-vsctl get Port ${port} tag`)).trim(), "42");
      assert.match(await vm.agent.check("virsh -c qemu:///system domstate tiny"), /running/);

      const del = await call("DELETE", "/api/v1/vms/tiny?force=true");
      assert.equal(del.status, 200, del.text);
      assert.deepEqual((await call("GET", "/api/v1/vms")).json["vms"], []);
    } catch (e) {
      passed = false;
      throw e;
    }
  });
});
