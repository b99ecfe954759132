/**
 * The Network page's bridges and VM networks in headless chromium (Debian's), against
 * a real qx-node whose switch and hypervisor are the in-memory ones: the management
 * bridge is marked and cannot be deleted, a bridge and a VLAN network are added from
 * the forms (bad input refused in the page, nothing sent), a network in use cannot be
 * deleted, and deleting goes through the confirmation dialog. Skipped without
 * /usr/bin/chromium.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "@quantix/node/api/test-server";
import { loadWebAssets } from "@quantix/node/web-assets";
import { hasChromium, launchChromium, login, type TestBrowser } from "./test-browser.ts";

const NETWORK_YAML = `management:
  interface: auto
  mode: dhcp
  bridge: vmbr0
bridges:
  - name: vmbr0
networks:
  - name: vm-network
    bridge: vmbr0
`;

describe("web UI: bridges and VM networks in headless chromium", { skip: hasChromium() ? false : "/usr/bin/chromium is not installed" }, () => {
  let n: TestNode;
  let browser: TestBrowser;
  before(async () => {
    n = await startTestNode({ "quantix/network.yaml": NETWORK_YAML }, { web: await loadWebAssets() });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await n?.close();
  });

  it("lists, adds and deletes bridges and networks; the management bridge and a used network stay", async () => {
    const page = await browser.ctx.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await login(page, n.srv.port, n.password, "#/network");
    const mgmt = page.locator('#bridge-table tr[data-bridge="vmbr0"]');
    await mgmt.getByText("management").waitFor();
    assert.equal(await mgmt.locator("button[data-delete-bridge]").isDisabled(), true, "the management bridge cannot be deleted");

    // Bad input is refused in the page; nothing reaches network.yaml.
    await page.fill('#bridge-add input[name="name"]', "Bad Name");
    await page.click('#bridge-add button[type="submit"]');
    await page.locator("#networks-panel .msg.error").getByText(/must be 1-15 lowercase/).waitFor();

    await page.fill('#bridge-add input[name="name"]', "vmbr1");
    await page.selectOption('#bridge-add select[name="datapath"]', "netdev");
    await page.click('#bridge-add button[type="submit"]');
    await page.locator('#bridge-table tr[data-bridge="vmbr1"]').waitFor();

    await page.fill('#network-add input[name="name"]', "dmz");
    await page.selectOption('#network-add select[name="bridge"]', "vmbr1");
    await page.fill('#network-add input[name="vlan"]', "5000");
    await page.click('#network-add button[type="submit"]');
    await page.locator("#networks-panel .msg.error").getByText(/1 to 4094/).waitFor();
    await page.fill('#network-add input[name="vlan"]', "300");
    await page.click('#network-add button[type="submit"]');
    await page.locator('#network-table tr[data-network="dmz"]').getByText("300").waitFor();
    const listed = (await n.call("GET", "/api/v1/networks", { token: n.reader })).json;
    assert.deepEqual(
      listed.networks.map((x: { name: string; bridge: string; vlan?: number }) => [x.name, x.bridge, x.vlan ?? null]),
      [["vm-network", "vmbr0", null], ["dmz", "vmbr1", 300]],
    );
    assert.deepEqual(listed.bridges.find((b: { name: string }) => b.name === "vmbr1").datapath, "netdev");
    // The bridge carrying dmz cannot go while dmz is there.
    assert.equal(await page.locator('#bridge-table tr[data-bridge="vmbr1"] button[data-delete-bridge]').isDisabled(), true);

    // A network in use by a VM cannot be deleted.
    assert.equal((await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: "web1", memory_mib: 64, nics: [{ network: "vm-network" }] } })).status, 201);
    await page.reload();
    await page.locator('#network-table tr[data-network="vm-network"]').getByText("web1").waitFor();
    assert.equal(await page.locator('#network-table tr[data-network="vm-network"] button[data-delete-network]').isDisabled(), true);

    // Deleting goes through the dialog: dmz, then its bridge.
    await page.click('#network-table tr[data-network="dmz"] button[data-delete-network]');
    await page.click("#confirm-yes");
    await page.locator('#network-table tr[data-network="dmz"]').waitFor({ state: "detached" });
    await page.click('#bridge-table tr[data-bridge="vmbr1"] button[data-delete-bridge]');
    await page.click("#confirm-yes");
    await page.locator('#bridge-table tr[data-bridge="vmbr1"]').waitFor({ state: "detached" });
    const after = (await n.call("GET", "/api/v1/networks", { token: n.reader })).json;
    assert.deepEqual(after.bridges.map((b: { name: string }) => b.name), ["vmbr0"]);
    assert.deepEqual(errors, []);
  });
});
