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
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { login } from "./test-browser.ts";

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
/** Goes through the creation wizard's four steps and creates (and starts) the VM. */
async function createThroughWizard(page: Page, o: { name: string; memory: string; disk: string; network: string }): Promise<void> {
  await page.locator('#vm-create[data-step="General"]').waitFor();
  await page.fill('#vm-create input[name="name"]', o.name);
  await page.fill('#vm-create input[name="memory"]', o.memory);
  await page.click("#vm-create button[data-step-next]");
  await page.locator('#vm-create[data-step="Storage"]').waitFor();
  await page.fill('#vm-create input[name="disk"]', o.disk);
  await page.click("#vm-create button[data-step-next]");
  await page.locator('#vm-create[data-step="Network"]').waitFor();
  await page.selectOption('#vm-create select[name="network"]', o.network);
  await page.click("#vm-create button[data-step-next]");
  await page.locator("#vm-review").getByText(`${o.memory} MiB`).waitFor();
  await page.click("#vm-create-submit");
}

/** A VM's serial line as QEMU's unix socket gives it: a coloured banner, then an echo of what is typed. */
function fakeSerial(path: string): Promise<Server> {
  const server = createServer((sock) => {
    sock.on("error", () => undefined);
    sock.write("\x1b[1;32mguest login:\x1b[0m ");
    sock.on("data", (d: Buffer) => sock.write(d.toString("latin1").replace(/\r/g, "\r\n")));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve(server));
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
    await createThroughWizard(page, { name: "web-vm", memory: "512", disk: "1", network: "lan" });
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
  it("the wizard shows the host's free memory and refuses more than that; each step says what is wrong next to the field", async () => {
    const page = await ctx.newPage();
    await login(page, n.srv.port, n.password, "#/vms");
    await page.locator("#host-free").waitFor();
    const free = Number(/(\d+) MiB free/.exec((await page.locator("#host-free").textContent()) ?? "")?.[1]);
    assert.ok(free > 0, "free memory is shown");
    await page.fill('#vm-create input[name="name"]', "bad name!");
    await page.fill('#vm-create input[name="memory"]', String(free + 1024));
    await page.click("#vm-create button[data-step-next]");
    await page.locator(".field-error").getByText("letters, digits").waitFor();
    await page.locator(".field-error").getByText(`at most ${free} MiB`).waitFor();
    assert.equal(await page.locator("#vm-create").getAttribute("data-step"), "General", "the wizard stays on the step");
    // Not starting it lifts the free-memory limit (the host check of the API still stands).
    await page.fill('#vm-create input[name="name"]', "big-vm");
    await page.fill('#vm-create input[name="memory"]', "512");
    await page.click("#vm-create button[data-step-next]");
    await page.locator('#vm-create[data-step="Storage"]').waitFor();
    await page.click("#vm-create button[data-step-back]");
    assert.equal(await page.inputValue('#vm-create input[name="name"]'), "big-vm", "going back keeps what was typed");
    assert.equal((await n.call("GET", "/api/v1/vms", { token: n.admin })).json.vms.length, 0, "nothing was made");
    await page.close();
  });

  it("a serial console (xterm.js) stays open and connected while the list updates; its URL reopens it after a reload", async () => {
    const made = await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: "con-vm", memory_mib: 64, start: true } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: "other-vm", memory_mib: 64, start: false } });
    const serial = await fakeSerial(join(n.root, "run/quantix/vms/con-vm.serial"));
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
      await login(page, n.srv.port, n.password, "#/vms");
      await page.click('tr[data-vm="con-vm"] button[data-action="console"]');
      await page.locator('#vm-console-status[data-status="connected"]').waitFor({ timeout: 20_000 });
      assert.equal(new URL(page.url()).hash, "#/vms/con-vm/console");
      const screen = () => page.evaluate(() => (document.getElementById("vm-console") as HTMLElement & { qxTerm?: { text(): string } }).qxTerm?.text() ?? "");
      await page.waitForFunction(() => ((document.getElementById("vm-console") as HTMLElement & { qxTerm?: { text(): string } }).qxTerm?.text() ?? "").includes("guest login:"));
      await page.evaluate(() => {
        (document.getElementById("vm-console") as HTMLElement & { marked?: boolean }).marked = true;
      });
      // Three updates of the list (another VM starts and stops), each read from the change stream.
      for (const [action, state] of [["start", "running"], ["force-off", "shutoff"], ["start", "running"]] as const) {
        assert.equal((await n.call("POST", `/api/v1/vms/other-vm/${action}`, { token: n.admin })).status, 200);
        await page.locator(`tr[data-vm="other-vm"] td[data-state="${state}"]`).waitFor({ timeout: 15_000 });
      }
      assert.equal(await page.evaluate(() => (document.getElementById("vm-console") as HTMLElement & { marked?: boolean }).marked), true, "the same console element, never replaced");
      assert.equal(await page.getAttribute("#vm-console-status", "data-status"), "connected");
      await page.click("#vm-console");
      await page.keyboard.type("root");
      await page.keyboard.press("Enter");
      await page.waitForFunction(() => ((document.getElementById("vm-console") as HTMLElement & { qxTerm?: { text(): string } }).qxTerm?.text() ?? "").includes("guest login: root"));
      assert.match(await screen(), /guest login: root/);
      await page.reload(); // the session lives in sessionStorage: no new login
      await page.locator('#vm-console-status[data-status="connected"]').waitFor({ timeout: 20_000 });
      assert.equal(await page.getAttribute("#console-panel", "data-vm"), "con-vm");
      await page.click("#console-close");
      await page.locator("#console-panel").waitFor({ state: "detached" });
      assert.equal(new URL(page.url()).hash, "#/vms");
      assert.deepEqual(errors, []);
    } finally {
      serial.close();
      await page.close();
      for (const vm of ["con-vm", "other-vm"]) await n.call("DELETE", `/api/v1/vms/${vm}?force=true`, { token: n.admin });
    }
  });

  it("an ISO upload shows percent, size and speed, and Cancel stops it with nothing kept", async () => {
    const page = await ctx.newPage();
    await login(page, n.srv.port, n.password, "#/vms");
    const cdp = await ctx.newCDPSession(page);
    await cdp.send("Network.enable");
    // 4 MiB/s: a 24 MiB upload takes a few seconds, long enough to watch and cancel.
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 4 * 1048576 });
    const iso = Buffer.alloc(24 * 1048576, 7);
    await page.locator("#storage-panel table").waitFor();
    await page.setInputFiles("#iso-upload", { name: "slow.iso", mimeType: "application/octet-stream", buffer: iso });
    await page.locator("#upload-text").getByText(/MiB of 24\.0 MiB \(\d+ %\), [\d.]+ (K|M)iB\/s/).waitFor({ timeout: 20_000 });
    await page.click("#upload-cancel");
    await page.locator("#storage-panel").getByText("was cancelled; nothing was kept").waitFor();
    const gone = async () => (await n.call("GET", "/api/v1/storage/volumes/slow.iso", { token: n.admin })).status === 404;
    for (let i = 0; i < 50 && !(await gone()); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await gone(), "the partial upload was removed");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await page.setInputFiles("#iso-upload", { name: "fast.iso", mimeType: "application/octet-stream", buffer: Buffer.alloc(1048576, 1) });
    await page.locator("#storage-panel").getByText("fast.iso uploaded").waitFor();
    await page.locator('tr[data-volume="fast.iso"]').waitFor();
    await page.close();
  });
});
