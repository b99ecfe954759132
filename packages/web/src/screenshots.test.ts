/**
 * Screenshots of every view of the web UI, light and dark, in headless chromium against
 * a real qx-node (in-memory hypervisor with two VMs, a VM network, metrics sampled from
 * this host's /proc). They are the test's artifacts: written to $QX_SCREENSHOTS_DIR
 * (default: a fresh directory under the system's temp dir, printed), and `make
 * screenshots` writes them to docs/screenshots/, which docs/web-ui.md shows. Each must be a
 * PNG of the full view, not a blank or an error page.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "@quantix/node/api/test-server";
import { createMetrics } from "@quantix/node/services/metrics";
import { loadWebAssets } from "@quantix/node/web-assets";
import { CHROMIUM, hasChromium, launchChromium, login, type TestBrowser } from "./test-browser.ts";

/** The views and what shows that each has loaded. */
export const SHOTS: [view: string, ready: string][] = [
  ["dashboard", "#chart-cpu canvas"],
  ["vms", "#vm-table"],
  ["vms/web-01", "#vm-summary"],
  ["vms/web-01/hardware", "#vm-nics"],
  ["activity", "#task-rows"],
  ["network", "main h2"],
  ["services", "main table"],
  ["logs", "main h2"],
  ["update", "main h2"],
  ["access", "main h2"],
  ["power", "main h2"],
];

const NETWORK_YAML = "management:\n  interface: auto\n  mode: dhcp\n  bridge: vmbr0\nbridges:\n  - name: vmbr0\nnetworks:\n  - name: vm-network\n    bridge: vmbr0\n  - name: lab\n    bridge: vmbr0\n    vlan: 20\n";

describe("web UI screenshots, light and dark", { skip: hasChromium() ? false : `${CHROMIUM} is not installed` }, () => {
  let n: TestNode;
  let browser: TestBrowser;
  let dir = process.env["QX_SCREENSHOTS_DIR"] ?? "";
  before(async () => {
    dir = dir || (await mkdtemp(join(tmpdir(), "qx-screenshots-")));
    await mkdir(dir, { recursive: true });
    const metrics = createMetrics({ root: "/", now: Date.now, sampleMs: 250 });
    n = await startTestNode({ "quantix/network.yaml": NETWORK_YAML }, { web: await loadWebAssets(), metrics });
    for (const [name, start] of [["web-01", true], ["db-01", true], ["build-07", false]] as const) {
      const r = await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name, vcpus: 2, memory_mib: 2048, disks: [{ volume: `${name}-disk0`, size_mib: 20480 }], nics: [{ network: "vm-network" }], start } });
      assert.equal(r.status, 201, JSON.stringify(r.json));
    }
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await n?.close();
    console.log(`# screenshots in ${dir}`);
  });

  for (const theme of ["light", "dark"] as const) {
    it(`every view (${theme})`, async () => {
      const page = await browser.ctx.newPage();
      await page.setViewportSize({ width: 1280, height: 860 });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.addInitScript((t) => localStorage.setItem("qx.theme", t), theme);
      await login(page, n.srv.port, n.password);
      for (const [view, ready] of SHOTS) {
        await page.evaluate((v) => {
          location.hash = `#/${v}`;
        }, view);
        await page.locator(ready).first().waitFor({ timeout: 20_000 });
        await page.waitForTimeout(400); // let the spinners of the slower panels settle
        const png = await page.screenshot({ path: join(dir, `${view.replaceAll("/", "-")}-${theme}.png`), fullPage: true });
        assert.ok(png.length > 10_000, `${view} (${theme}) is not a blank page`);
        assert.equal(await page.locator("main .msg.error").count(), 0, `${view} (${theme}) shows no error`);
      }
      assert.equal(await page.getAttribute("html", "data-theme"), theme);
      assert.deepEqual(errors, []);
      await page.close();
    });
  }
});
