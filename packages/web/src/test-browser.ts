/**
 * @module test-browser
 * For tests of the web UI: Debian's chromium (never a downloaded one), headless,
 * driven by playwright-core, in a fresh profile that is removed on close. The flags
 * keep chromium from reaching for the network (this machine's network is closed).
 *
 * @example
 * ```ts
 * if (!hasChromium()) t.skip(...);
 * const b = await launchChromium();
 * const page = await b.ctx.newPage();
 * await b.close();
 * ```
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

export const hasChromium = (): boolean => existsSync(CHROMIUM);

export interface TestBrowser {
  readonly ctx: BrowserContext;
  close(): Promise<void>;
}

/** Starts headless chromium accepting self-signed certificates (the node's). */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), "qx-chromium-"));
  // A fresh --user-data-dir (playwright passes `profile` as that flag).
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    ignoreHTTPSErrors: true,
    timeout: 60_000,
  });
  return {
    ctx,
    async close() {
      await ctx.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Opens the UI on `port` (at `hash`, if given) and logs in as admin with `password`. */
export async function login(page: Page, port: number, password: string, hash = ""): Promise<void> {
  await page.goto(`https://127.0.0.1:${port}/${hash}`);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
  await page.locator("header nav").waitFor();
}
