#!/usr/bin/env node
// Builds the web UI into a few static files (esbuild; no framework).
//   node packages/web/build.mjs OUT_DIR       write index.html, app.js, app.css into OUT_DIR
//   import { buildWeb } from "@quantix/web/build.mjs"   the same files in memory
// qx-node serves them at / (scripts/bundle.mjs embeds them in the qx-node bundle).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, "src");

/** @returns {Promise<Record<string, { type: string; body: string }>>} URL path → file */
export async function buildWeb() {
  const js = await build({
    entryPoints: [join(src, "app.ts")],
    bundle: true,
    write: false,
    format: "iife",
    target: "es2020",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  });
  const css = await transform(readFileSync(join(src, "app.css"), "utf8"), { loader: "css", minify: true });
  return {
    "/index.html": { type: "text/html; charset=utf-8", body: readFileSync(join(src, "index.html"), "utf8") },
    "/app.js": { type: "text/javascript; charset=utf-8", body: js.outputFiles[0].text },
    "/app.css": { type: "text/css; charset=utf-8", body: css.code },
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
