/**
 * bench/web-ui: the web UI's weight and its first paint, in one run on loopback.
 *  - weight: each file the UI serves, raw and gzip -9 (the budget: 300 KB gzip for the
 *    UI without the on-demand viewers vnc.js and term.js);
 *  - first paint: headless chromium (Debian's) with a session already in the tab, from
 *    navigation start to the dashboard's node name on screen (`#dash-hostname`), and to
 *    its charts drawn (`#chart-cpu canvas`); N loads, min/median/max.
 *   npx tsx bench/web-ui.ts [--loads 10]
 */
import { parseArgs } from "node:util";
import { gzipSync } from "node:zlib";
import { startTestNode } from "../packages/node/src/api/test-server.ts";
import { loadWebAssets } from "../packages/node/src/web-assets.ts";
import { buildWeb } from "../packages/web/build.mjs";
import { hasChromium, launchChromium } from "../packages/web/src/test-browser.ts";

const { values } = parseArgs({ options: { loads: { type: "string" } } });
const loads = Number(values.loads ?? 10);

const files = (await buildWeb()) as Record<string, { body: string }>;
let ui = 0;
console.log("file            raw KiB   gzip KiB");
for (const [path, f] of Object.entries(files)) {
  const raw = Buffer.byteLength(f.body);
  const gz = gzipSync(f.body, { level: 9 }).length;
  if (!/^\/(vnc|term)\./.test(path)) ui += gz;
  console.log(`${path.padEnd(14)} ${(raw / 1024).toFixed(1).padStart(8)} ${(gz / 1024).toFixed(1).padStart(10)}`);
}
console.log(`UI without the viewers: ${(ui / 1024).toFixed(1)} KiB gzip (budget 300 KB = 293 KiB)`);

if (!hasChromium()) {
  console.log("first paint: skipped, /usr/bin/chromium is not installed");
  process.exit(0);
}
const n = await startTestNode({}, { web: await loadWebAssets() });
const b = await launchChromium();
try {
  const page = await b.ctx.newPage();
  const login = (await n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: n.password } })).json as { token: string };
  await page.goto(`https://127.0.0.1:${n.srv.port}/`);
  await page.evaluate((t) => sessionStorage.setItem("qx.session", t), login.token);
  const name: number[] = [];
  const charts: number[] = [];
  for (let i = 0; i < loads + 1; i++) {
    await page.goto(`https://127.0.0.1:${n.srv.port}/#/dashboard`);
    await page.locator("#dash-hostname").waitFor();
    const t1 = await page.evaluate(() => performance.now());
    await page.locator("#chart-cpu canvas").waitFor();
    const t2 = await page.evaluate(() => performance.now());
    if (i === 0) continue; // the first load warms the server's caches
    name.push(t1);
    charts.push(t2);
  }
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, c) => a - c);
    return `min ${s[0]?.toFixed(0)} ms, median ${s[Math.floor(s.length / 2)]?.toFixed(0)} ms, max ${s[s.length - 1]?.toFixed(0)} ms`;
  };
  console.log(`first paint, node name (${loads} loads): ${stat(name)} (target < 1000 ms)`);
  console.log(`first paint, charts drawn (${loads} loads): ${stat(charts)}`);
} finally {
  await b.close();
  await n.close();
}
