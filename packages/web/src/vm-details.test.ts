/**
 * A VM's details in headless chromium (Debian's), against a real qx-node with the
 * in-memory hypervisor, whose counters grow like a busy VM's and are sampled every
 * 300 ms: the VM's name opens its summary (facts and four live charts), each tab has
 * its URL (reload keeps it), the hardware tab shows the NIC on its bridge, the events
 * tab the VM's lifecycle, and a stopped VM offers no console. Skipped without
 * /usr/bin/chromium.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "@quantix/node/api/test-server";
import { createMetrics } from "@quantix/node/services/metrics";
import { memoryVirt } from "@quantix/node/virt/virt-services";
import { loadWebAssets } from "@quantix/node/web-assets";
import { hasChromium, launchChromium, login, type TestBrowser } from "./test-browser.ts";

const NETWORK_YAML = "management:\n  interface: auto\n  mode: dhcp\n  bridge: vmbr0\nbridges:\n  - name: vmbr0\nnetworks:\n  - name: vm-network\n    bridge: vmbr0\n";

describe("web UI: a VM's details in headless chromium", { skip: hasChromium() ? false : "/usr/bin/chromium is not installed" }, () => {
  let n: TestNode;
  let browser: TestBrowser;
  let poolRoot = "";
  before(async () => {
    // The hypervisor's own root (its pool and network.yaml): made here so the metrics can read its counters.
    poolRoot = await mkdtemp(join(tmpdir(), "qx-vmdetails-"));
    await mkdir(join(poolRoot, "quantix"), { recursive: true });
    await writeFile(join(poolRoot, "quantix/network.yaml"), NETWORK_YAML);
    const virt = memoryVirt(poolRoot);
    const metrics = createMetrics({ root: "/", now: Date.now, sampleMs: 300, vmStats: () => virt.hypervisor.stats() });
    n = await startTestNode({ "quantix/network.yaml": NETWORK_YAML }, { web: await loadWebAssets(), metrics, virt });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await n?.close();
    if (poolRoot) await rm(poolRoot, { recursive: true, force: true });
  });

  it("summary with live charts, hardware, events, a URL per tab; no console for a stopped VM", async () => {
    const made = await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: "web1", vcpus: 2, memory_mib: 256, nics: [{ network: "vm-network" }], start: true } });
    assert.equal(made.status, 201, JSON.stringify(made.json));
    const page = await browser.ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await login(page, n.srv.port, n.password, "#/vms");
    await page.click('tr[data-vm="web1"] a[data-action="details"]');
    await page.locator('#console-panel[data-vm="web1"][data-kind="summary"]').waitFor();
    assert.equal(new URL(page.url()).hash, "#/vms/web1");
    assert.match((await page.locator("#vm-summary").textContent()) ?? "", /2 vCPU, 256 MiB/);
    for (const id of ["vm-cpu", "vm-memory", "vm-disk", "vm-network"]) await page.locator(`#chart-${id} canvas`).waitFor();
    // Points come from libvirt's counters (here the in-memory hypervisor's), read every 10 s.
    await page.waitForFunction(() => Number(document.getElementById("chart-vm-cpu")?.getAttribute("data-points")) > 0, undefined, { timeout: 15_000 });
    assert.match((await page.locator("#chart-vm-memory .chart-now").textContent()) ?? "", /resident of/);

    await page.click('#console-panel button[data-tab="hardware"]');
    await page.locator("#vm-nics").getByText("vmbr0").waitFor();
    assert.equal(new URL(page.url()).hash, "#/vms/web1/hardware");
    await page.reload();
    await page.locator('#console-panel[data-kind="hardware"] #vm-nics').waitFor();

    await page.click('#console-panel button[data-tab="events"]');
    await page.locator('#vm-events tr[data-kind="vm.started"]').waitFor();

    // Stopped: the console tabs are off, and an open console goes back to the summary.
    await page.click('#console-panel button[data-tab="console"]');
    await page.locator('#console-panel[data-kind="console"]').waitFor();
    assert.equal((await n.call("POST", "/api/v1/vms/web1/force-off", { token: n.admin })).status, 200);
    await page.locator('#console-panel[data-kind="summary"]').waitFor({ timeout: 15_000 });
    assert.equal(await page.locator('#console-panel button[data-tab="console"]').isDisabled(), true);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
