#!/usr/bin/env node
// Builds the web UI into a few static files (esbuild; Preact + htm, no JSX step).
//   node packages/web/build.mjs OUT_DIR       write index.html, app.js, app.css, vnc.js into OUT_DIR
//   import { buildWeb } from "@quantix/web/build.mjs"   the same files in memory
// qx-node serves them at / (scripts/bundle.mjs embeds them in the qx-node bundle).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");
const require = createRequire(import.meta.url);

/** One browser script from `entry` (and what it imports). */
async function script(entry) {
  const r = await build({
    entryPoints: [join(src, entry)],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2020",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
  return r.outputFiles[0].text;
}

/**
 * @returns {Promise<Record<string, { type: string; body: string }>>} URL path → file.
 * term.js and term.css are the serial console (xterm.js, MIT), loaded the same way.
 * vnc.js is the VNC viewer (noVNC, MPL-2.0, @novnc/novnc 1.4: later versions use a
 * top-level await that an IIFE script cannot have), loaded by the VMs page on demand.
 */
export async function buildWeb() {
  const [app, vnc, term] = await Promise.all([script("app.ts"), script("vnc.ts"), script("term.ts")]);
  // uPlot's stylesheet (MIT) first, so app.css may adjust it.
  const uplotCss = readFileSync(require.resolve("uplot/dist/uPlot.min.css"), "utf8");
  const css = await transform(`${uplotCss}\n${readFileSync(join(src, "app.css"), "utf8")}`, { loader: "css", minify: true });
  const termCss = await transform(readFileSync(require.resolve("@xterm/xterm/css/xterm.css"), "utf8"), { loader: "css", minify: true });
  return {
    "/index.html": { type: "text/html; charset=utf-8", body: readFileSync(join(src, "index.html"), "utf8") },
    "/app.js": { type: "text/javascript; charset=utf-8", body: app },
    "/vnc.js": { type: "text/javascript; charset=utf-8", body: `/*! noVNC (https://github.com/novnc/noVNC), MPL-2.0 */\n${vnc}` },
    "/app.css": { type: "text/css; charset=utf-8", body: css.code },
    "/term.js": { type: "text/javascript; charset=utf-8", body: `/*! xterm.js (https://github.com/xtermjs/xterm.js), MIT */\n${term}` },
    "/term.css": { type: "text/css; charset=utf-8", body: `/*! xterm.js, MIT */\n${termCss.code}` },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: node packages/web/build.mjs OUT_DIR");
    process.exit(2);
  }
  mkdirSync(out, { recursive: true });
  for (const [path, file] of Object.entries(await buildWeb())) {
    writeFileSync(join(out, path), file.body);
    console.log(`web: ${join(out, path)}  ${(Buffer.byteLength(file.body) / 1024).toFixed(1)} KiB`);
  }
}
