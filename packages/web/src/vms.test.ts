/**
 * The VMs page in headless chromium (Debian's), against a real qx-node whose
 * hypervisor is the in-memory one (the API tests' default): create a VM from the
 * form, see it running, open its display (noVNC through the API's VNC WebSocket, to a
 * small RFB server on the VM's VNC socket), force it off, delete it. Skipped without
 * /usr/bin/chromium.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "@quantix/node/api/test-server";
import { loadWebAssets } from "@quantix/node/web-assets";
import { type BrowserContext, chromium } from "playwright-core";

const CHROMIUM = "/usr/bin/chromium";

/**
 * An RFB 3.8 server that gets a client as far as QEMU's would: version, security
 * type None, ServerInit of a 64×48 display named `name`; client messages after that are
 * ignored. Resolves with the server and a count of clients that completed ServerInit.
 */
function fakeVnc(path: string, name: string): Promise<{ server: Server; initialised: () => number }> {
  let done = 0;
  const server = createServer((sock) => {
    let stage = 0;
    let buf = Buffer.alloc(0);
    sock.on("error", () => undefined);
    sock.write("RFB 003.008\n");
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 12) {
        buf = buf.subarray(12);
        sock.write(Buffer.from([1, 1])); // one security type: None
        stage = 1;
      }
      if (stage === 1 && buf.length >= 1) {
        buf = buf.subarray(1);
        sock.write(Buffer.alloc(4)); // SecurityResult OK
        stage = 2;
      }
      if (stage === 2 && buf.length >= 1) {
        buf = buf.subarray(1);
        const init = Buffer.alloc(24);
        init.writeUInt16BE(64, 0);
        init.writeUInt16BE(48, 2);
        Buffer.from([32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]).copy(init, 4);
        init.writeUInt32BE(Buffer.byteLength(name), 20);
        sock.write(Buffer.concat([init, Buffer.from(name)]));
        done++;
        stage = 3;
      }
    });
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve({ server, initialised: () => done }));
  });
}
const NETWORK_YAML = "management:\n  interface: auto\n  mode: dhcp\nbridges:\n  - name: qxbr0\nnetworks:\n  - name: lan\n    bridge: qxbr0\n    vlan: 10\n";

describe("web UI: the VMs page in headless chromium", { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed` }, () => {
  let n: TestNode;
  let ctx: BrowserContext;
  let profile = "";
  before(async () => {
    n = await startTestNode({ "quantix/network.yaml": NETWORK_YAML }, { web: await loadWebAssets() });
    profile = await mkdtemp(join(tmpdir(), "qx-chromium-"));
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      ignoreHTTPSErrors: true,
      timeout: 60_000,
    });
  });
  after(async () => {
    await ctx?.close();
    await n?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it("create a VM from the form, see it running, force it off, delete it", async () => {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`https://127.0.0.1:${n.srv.port}/`);
    await page.fill("#login-password", n.password);
    await page.click("#login-submit");
    await page.click('nav button[data-view="VMs"]');
    await page.locator("#vm-create").waitFor();
    await page.fill('#vm-create input[name="name"]', "web-vm");
    await page.fill('#vm-create input[name="memory"]', "512");
    await page.fill('#vm-create input[name="disk"]', "1");
    await page.selectOption('#vm-create select[name="network"]', "lan");
    await page.click('#vm-create button[type="submit"]');
    await page.locator('tr[data-vm="web-vm"] td[data-state="running"]').waitFor();
    const vm = (await n.call("GET", "/api/v1/vms/web-vm", { token: n.admin })).json;
    assert.equal(vm.memory_mib, 512);
    assert.equal(vm.nics[0].vlan, 10);
    assert.equal(vm.disks[0].volume, "web-vm-disk0");

    // The display: noVNC (loaded on demand) through the API's WebSocket to the VM's VNC socket.
    const vnc = await fakeVnc(join(n.root, "run/quantix/vms/web-vm.vnc"), "web-vm display");
    try {
      await page.click('tr[data-vm="web-vm"] button[data-action="display"]');
      await page.locator('#vm-vnc-status[data-status="connected"]').waitFor({ timeout: 20_000 });
      await page.locator("#vm-vnc canvas").waitFor();
      assert.equal(vnc.initialised(), 1, "the viewer went through the RFB handshake");
    } finally {
      vnc.server.close();
    }

    // Force off asks first; Cancel (the focused default) leaves the VM running.
    await page.click('tr[data-vm="web-vm"] button.danger:text("Force off")');
    await page.locator("dialog.confirm").getByText("pulling the plug").waitFor();
    await page.keyboard.press("Escape");
    await page.locator("dialog.confirm").waitFor({ state: "detached" });
    assert.equal((await n.call("GET", "/api/v1/vms/web-vm", { token: n.admin })).json.state, "running");
    await page.click('tr[data-vm="web-vm"] button.danger:text("Force off")');
    await page.click("#confirm-yes");
    await page.locator('tr[data-vm="web-vm"] td[data-state="shutoff"]').waitFor();
    await page.click('tr[data-vm="web-vm"] button.danger:text("Delete")');
    await page.locator("dialog.confirm").getByText("web-vm-disk0").first().waitFor();
    await page.check("#confirm-option");
    await page.click("#confirm-yes");
    await page.locator('tr[data-vm="web-vm"]').waitFor({ state: "detached" });
    assert.equal((await n.call("GET", "/api/v1/vms", { token: n.admin })).json.vms.length, 0);
    assert.equal((await n.call("GET", "/api/v1/storage/volumes/web-vm-disk0", { token: n.admin })).status, 404, "its disk went with it");
    assert.deepEqual(errors, []);
    await page.close();
  });
});
