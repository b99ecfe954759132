/**
 * The web UI in a real browser: Debian's chromium (never a downloaded one), driven
 * headless by playwright-core against a real qx-node on 127.0.0.1. Skipped when
 * /usr/bin/chromium is missing (`apt-get install chromium`, in builder/host-packages.conf).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "@quantix/node/api/test-server";
import { createMetrics } from "@quantix/node/services/metrics";
import { VirtUnavailableError } from "@quantix/node/virt/errors";
import { memoryVirt } from "@quantix/node/virt/virt-services";
import { loadWebAssets } from "@quantix/node/web-assets";
import type { BrowserContext } from "playwright-core";
import { CHROMIUM, hasChromium, launchChromium, login, type TestBrowser } from "./test-browser.ts";

describe("web UI in headless chromium", { skip: hasChromium() ? false : `${CHROMIUM} is not installed` }, () => {
  let n: TestNode;
  let browser: TestBrowser;
  let ctx: BrowserContext;
  before(async () => {
    n = await startTestNode({}, { web: await loadWebAssets() });
    browser = await launchChromium();
    ctx = browser.ctx;
  });
  after(async () => {
    await browser?.close();
    await n?.close();
  });

  it("log in, rename the node, see the new name on the dashboard", async () => {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    page.on("console", (m) => {
      if (m.type() === "error" && !/status of (40[01]|501)/.test(m.text())) errors.push(m.text());
    });
    await page.goto(`https://127.0.0.1:${n.srv.port}/`);
    await page.fill("#login-password", "not-the-password");
    await page.click("#login-submit");
    await page.getByRole("alert").getByText("wrong user name or password").waitFor();

    await page.fill("#login-password", n.password);
    await page.click("#login-submit");
    await page.locator("#dash-hostname").getByText("quantix-01").waitFor();
    assert.equal(await page.textContent("#dash-fingerprint"), n.srv.certificate.fingerprint);

    await page.fill("#hostname-input", "web-renamed");
    await page.click("#rename");
    await page.locator("#dash-hostname").getByText("web-renamed").waitFor();
    assert.match(await readFile(join(n.root, "quantix/node.yaml"), "utf8"), /hostname: "?web-renamed"?/);

    await page.reload();
    await page.locator("#dash-hostname").getByText("web-renamed").waitFor();
    for (const view of ["Activity", "Network", "Services", "Logs", "Update", "Access", "Power"]) {
      await page.click(`nav button[data-view="${view}"]`);
      await page.locator("main section, main form").first().waitFor();
    }
    await page.click("#logout");
    await page.locator("#login-password").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });
  it("Activity: tasks and events arrive live; cancelling an upload needs the dialog's confirmation", async () => {
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`https://127.0.0.1:${n.srv.port}/`);
    await page.fill("#login-password", n.password);
    await page.click("#login-submit");
    await page.locator("nav button[data-view=Activity]").click();
    await page.locator("#tasks").waitFor();

    // Made elsewhere while the page is open: the rows appear without a reload.
    assert.equal((await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: "live-1", memory_mib: 64 } })).status, 201);
    await page.locator("#task-rows tr", { hasText: "Create VM live-1" }).locator("text=Done").waitFor();
    await n.call("POST", "/api/v1/auth/login", { body: { username: "mallory", password: "guess-guess" } });
    await page.locator("#event-rows tr", { hasText: "Failed login as mallory" }).waitFor();

    // An upload that stays open: its row shows progress and a Cancel button.
    const agent = new Agent({ ca: n.srv.certificate.certPem });
    const req = request({
      host: "127.0.0.1", port: n.srv.port, method: "PUT", path: "/api/v1/storage/volumes/slow.iso/content", agent, servername: "localhost",
      headers: { authorization: `Bearer ${n.admin}`, "content-type": "application/octet-stream", "content-length": String(4 << 20) },
    });
    req.on("error", () => undefined);
    req.on("response", (res) => res.resume());
    req.write(Buffer.alloc(1 << 20));
    const row = page.locator("#task-rows tr", { hasText: "Upload volume slow.iso" });
    await row.locator("button[data-cancel]").waitFor();
    await row.locator("button[data-cancel]").click();
    await page.locator("dialog.confirm").getByText("cannot be resumed").waitFor();
    await page.click("#confirm-no");
    await page.waitForTimeout(300);
    assert.equal(await row.getAttribute("data-state"), "running", "keeping it running leaves the upload alone");
    await row.locator("button[data-cancel]").click();
    await page.click("#confirm-yes");
    await page.locator("#task-rows tr[data-state=cancelled]", { hasText: "Upload volume slow.iso" }).waitFor();
    assert.equal((await n.call("GET", "/api/v1/storage/volumes/slow.iso", { token: n.reader })).status, 404);
    req.destroy();
    agent.destroy();
    assert.deepEqual(errors, []);
    await page.close();
  });
  it("follows the system's dark scheme, and the header toggle overrides it (kept across a reload)", async () => {
    const page = await ctx.newPage();
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`https://127.0.0.1:${n.srv.port}/`);
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(await bg(), "rgb(15, 21, 28)", "dark from prefers-color-scheme");
    await page.fill("#login-password", n.password);
    await page.click("#login-submit");
    await page.locator("#theme").waitFor();
    await page.click("#theme"); // system -> light
    assert.equal(await page.textContent("#theme"), "Theme: light");
    assert.equal(await bg(), "rgb(244, 246, 248)");
    await page.reload();
    assert.equal(await bg(), "rgb(244, 246, 248)", "the choice is kept");
    await page.click("#theme"); // light -> dark
    await page.emulateMedia({ colorScheme: "light" });
    assert.equal(await bg(), "rgb(15, 21, 28)", "dark chosen wins over a light system");
    await page.click("#theme"); // dark -> system
    assert.equal(await bg(), "rgb(244, 246, 248)");
    await page.close();
  });
  it("revoking a token asks first: Cancel keeps it, the named button revokes it", async () => {
    const made = await n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: "monitor", scope: "read" } });
    assert.equal(made.status, 201);
    const page = await ctx.newPage();
    await page.goto(`https://127.0.0.1:${n.srv.port}/`);
    await page.fill("#login-password", n.password);
    await page.click("#login-submit");
    await page.click('nav button[data-view="Access"]');
    await page.click(`button[data-revoke="${made.json.id}"]`);
    await page.locator("dialog.confirm").getByText('Revoke the API token "monitor"?').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), "confirm-no", "the safe choice has the focus");
    await page.click("#confirm-no");
    const ids = async () => (await n.call("GET", "/api/v1/auth/tokens", { token: n.admin })).json.map((t: { id: string }) => t.id);
    assert.ok((await ids()).includes(made.json.id));
    await page.click(`button[data-revoke="${made.json.id}"]`);
    await page.click("#confirm-yes");
    await page.locator(`button[data-revoke="${made.json.id}"]`).waitFor({ state: "detached" });
    assert.ok(!(await ids()).includes(made.json.id));
    await page.close();
  });
  it("every view has its URL: reload, back and forward keep the place; a deep link opens after the login", async () => {
    const page = await ctx.newPage();
    await page.goto(`https://127.0.0.1:${n.srv.port}/#/logs`);
    await page.fill("#login-password", n.password);
    await page.click("#login-submit");
    await page.locator("#log-source").waitFor();
    assert.match(page.url(), /#\/logs$/);
    await page.click('nav button[data-view="Activity"]');
    await page.locator("#tasks").waitFor();
    assert.match(page.url(), /#\/activity$/);
    await page.reload();
    await page.locator("#tasks").waitFor();
    assert.equal(await page.getAttribute('nav button[aria-current="page"]', "data-view"), "Activity");
    await page.goBack();
    await page.locator("#log-source").waitFor();
    await page.goForward();
    await page.locator("#tasks").waitFor();
    await page.close();
  });
});

describe("web UI when one call fails", { skip: hasChromium() ? false : `${CHROMIUM} is not installed` }, () => {
  let n: TestNode;
  let browser: TestBrowser;
  before(async () => {
    // libvirtd "down": listing VMs fails; the pool, volumes and networks still answer.
    n = await startTestNode({}, {
      web: await loadWebAssets(),
      virt: (root) => {
        const v = memoryVirt(root);
        return { ...v, vms: { ...v.vms, list: async () => { throw new VirtUnavailableError("libvirtd is not running (rc-service libvirtd start)"); } } };
      },
    });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await n?.close();
  });

  it("the VMs page says so in the VM panel and the rest of the page works", async () => {
    const page = await browser.ctx.newPage();
    await page.goto(`https://127.0.0.1:${n.srv.port}/`);
    await page.fill("#login-password", n.password);
    await page.click("#login-submit");
    await page.click('nav button[data-view="VMs"]');
    await page.locator("#vms-panel").getByText("The VMs could not be listed: libvirtd is not running").waitFor();
    await page.locator("#vm-create").waitFor();
    assert.equal(await page.locator("text=The storage pool could not be read").count(), 0, "the storage panel is whole");
    await page.close();
  });
});

describe("web UI: the dashboard's live charts in headless chromium", { skip: hasChromium() ? false : `${CHROMIUM} is not installed` }, () => {
  let n: TestNode;
  let browser: TestBrowser;
  before(async () => {
    // This host's own /proc, sampled every 300 ms, so points arrive while the test watches.
    const metrics = createMetrics({ root: "/", now: Date.now, sampleMs: 300 });
    n = await startTestNode({}, { web: await loadWebAssets(), metrics });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await n?.close();
  });

  it("draws CPU, memory, /data and network; the hour view grows with new points; 24 h is one click", async () => {
    const page = await browser.ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await login(page, n.srv.port, n.password, "#/dashboard");
    for (const id of ["cpu", "memory", "data", "network"]) await page.locator(`#chart-${id} canvas`).waitFor();
    const count = async () => Number(await page.getAttribute("#chart-cpu", "data-points"));
    await page.waitForFunction(() => Number(document.getElementById("chart-cpu")?.getAttribute("data-points")) > 0, undefined, { timeout: 15_000 });
    const first = await count();
    // The next read (10 s later) appends what came since.
    await page.waitForFunction((n0) => Number(document.getElementById("chart-cpu")?.getAttribute("data-points")) > n0, first, { timeout: 15_000 });
    assert.match((await page.locator("#chart-memory .chart-now").textContent()) ?? "", /used of/);
    assert.match((await page.locator("#chart-data .chart-now").textContent()) ?? "", /not mounted/, "no /data on this host root");
    await page.click('#charts button[data-range="24h"]');
    await page.locator('#charts[data-range="24h"]').waitFor();
    assert.equal(await page.getAttribute('#charts button[data-range="24h"]', "aria-pressed"), "true");
    assert.deepEqual(errors, []);
    await page.close();
  });
});
