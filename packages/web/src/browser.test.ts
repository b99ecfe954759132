/**
 * The web UI in a real browser: Debian's chromium (never a downloaded one), driven
 * headless by playwright-core against a real qx-node on 127.0.0.1. Skipped when
 * /usr/bin/chromium is missing (`apt-get install chromium`, in builder/host-packages.conf).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "@quantix/node/api/test-server";
import { loadWebAssets } from "@quantix/node/web-assets";
import type { BrowserContext } from "playwright-core";
import { CHROMIUM, hasChromium, launchChromium, type TestBrowser } from "./test-browser.ts";

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
    for (const view of ["Network", "Services", "Logs", "Update", "Access", "Power"]) {
      await page.click(`nav button[data-view="${view}"]`);
      await page.locator("main section, main form").first().waitFor();
    }
    await page.click("#logout");
    await page.locator("#login-password").waitFor();
    assert.deepEqual(errors, []);
    await page.close();
  });
});
