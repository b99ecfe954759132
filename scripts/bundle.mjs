#!/usr/bin/env node
// Bundles each Node.js tool into an executable file (no node_modules at run time).
//   node scripts/bundle.mjs OUT_DIR
// Each bundle: esbuild, platform node, target node20, ESM, minified, with a
// `#!/usr/bin/env node` shebang, mode 755. The image installs them in /usr/local/bin.
//
// A tool listed in SPLIT (qx-node, qx-update) is split: OUT_DIR/NAME is the entry and
// OUT_DIR/NAME.chunks/*.mjs hold the code it shares or loads with `import()` on first
// use (the update library with openpgp, @peculiar/x509, the web UI's files). Node
// compiles each file separately, so start-up neither parses the code an idle daemon
// never runs nor compiles one 2 MB script: qx-node's idle RSS drops by ~15 MB
// (bench/footprint). The chunks' names carry a content hash; the directory is
// replaced on every build.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { buildWeb } from "../packages/web/build.mjs";

/** entry (relative to the repository) → name of the command. Add new tools here. */
export const TOOLS = {
  "packages/node/src/main.ts": "qx-node",
  "packages/console/src/main.ts": "qx-console",
  "packages/installer/src/cli/qx-firstboot.ts": "qx-firstboot",
  "packages/installer/src/cli/qx-install.ts": "qx-install",
  "packages/node/src/cli/qx-netconf.ts": "qx-netconf",
  "packages/node/src/cli/qx-datamount.ts": "qx-datamount",
  "packages/node/src/cli/qx-boot.ts": "qx-boot",
  "packages/update/src/cli/qx-update.ts": "qx-update",
};

/** Tools bundled as an entry plus a directory of chunks (see the header). */
export const SPLIT = new Set(["qx-node", "qx-update", "qx-boot"]);

/** The directory of a split tool's chunks, beside its entry. */
export const chunkDir = (name) => `${name}.chunks`;

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");

// ESM output needs `require` for the CommonJS dependencies (fastify, pino) that
// load Node built-ins with it, and __dirname/__filename for the few that use them.
const banner = [
  'import { createRequire as __qxCreateRequire } from "node:module";',
  'import { fileURLToPath as __qxFileURLToPath } from "node:url";',
  'import { dirname as __qxDirname } from "node:path";',
  "const require = __qxCreateRequire(import.meta.url);",
  "const __filename = __qxFileURLToPath(import.meta.url);",
  "const __dirname = __qxDirname(__filename);",
].join("\n");

/**
 * Put at the top of each tool's entry (not of its chunks): every start of a tool is
 * recorded on a node (/run/quantix exists there, not on a build host) with the system
 * uptime, the pid, how long Node.js took before the entry ran (its chunks included)
 * and the command. bench/boot and the VM tier count the Node.js processes a boot
 * starts from it (docs/boot-speed.md).
 */
const startRecord = [
  'import { appendFileSync as __qxAppend, readFileSync as __qxRead } from "node:fs";',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the template literal is code for the bundle
  'try { __qxAppend("/run/quantix/node-starts", `${__qxRead("/proc/uptime", "utf8").split(" ")[0]} ${process.pid} ${process.uptime().toFixed(2)} ${process.argv.slice(1).join(" ")}\\n`); } catch {}',
].join("\n");

/**
 * The web UI (packages/web) goes inside the qx-node bundle: this plugin replaces
 * packages/node/src/web-assets.ts (which builds the UI from source at run time)
 * with the prebuilt files, so the image needs no esbuild. The files are a module of
 * their own, imported on first use: in a split bundle they are a chunk that an idle
 * daemon nobody browsed to never reads.
 */
function embedWebUi(files) {
  return {
    name: "qx-embed-web-ui",
    setup(b) {
      b.onLoad({ filter: /packages[\\/]node[\\/]src[\\/]web-assets\.ts$/ }, () => ({
        contents: 'export async function loadWebAssets() { return (await import("qx:web-ui-files")).default; }\n',
        loader: "js",
      }));
      b.onResolve({ filter: /^qx:web-ui-files$/ }, () => ({ path: "web-ui-files", namespace: "qx-web-ui" }));
      b.onLoad({ filter: /.*/, namespace: "qx-web-ui" }, () => ({ contents: `export default ${JSON.stringify(files)};\n`, loader: "js" }));
    },
  };
}

/**
 * zod re-exports all of its ~50 message locales as a namespace (`z.locales`), which
 * esbuild cannot tree-shake: 258 KiB of every bundle (1.3 MB of the image; V8 only
 * pre-parses them, so start-up gains little, 3-10 % of a tool's CPU on the build host).
 * Quantix-OS uses only the English messages zod registers by default, so the
 * namespace resolves to English alone.
 */
const zodEnglishOnly = {
  name: "qx-zod-english-only",
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)) return undefined;
      return { path: "zod-locales-en", namespace: "qx-zod-locales" };
    });
    b.onLoad({ filter: /.*/, namespace: "qx-zod-locales" }, () => ({
      contents: 'export { default as en } from "zod/v4/locales/en.js";\n',
      resolveDir: repo,
      loader: "js",
    }));
  },
};

/** Bundles one tool; returns the size in bytes of what it installs (entry and chunks). */
async function bundle(entry, name, outDir, plugins) {
  const outfile = join(outDir, name);
  const common = {
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    minify: true,
    legalComments: "none",
    banner: { js: banner },
    logLevel: "warning",
    plugins: [zodEnglishOnly, ...plugins],
  };
  let chunks = [];
  if (SPLIT.has(name)) {
    // The chunks are .mjs so that Node loads them as ES modules without a package.json.
    rmSync(join(outDir, chunkDir(name)), { recursive: true, force: true });
    const r = await build({
      ...common,
      entryPoints: { [name]: join(repo, entry) },
      outdir: outDir,
      splitting: true,
      outExtension: { ".js": ".mjs" },
      chunkNames: `${chunkDir(name)}/[name]-[hash]`,
      metafile: true,
    });
    renameSync(`${outfile}.mjs`, outfile);
    chunks = Object.keys(r.metafile.outputs).filter((p) => resolve(p) !== resolve(`${outfile}.mjs`));
  } else {
    await build({ ...common, entryPoints: [join(repo, entry)], outfile });
  }
  // esbuild keeps an entry's own `#!` line (first); add one where the entry has none.
  const code = readFileSync(outfile, "utf8");
  const shebang = code.startsWith("#!") ? code.slice(0, code.indexOf("\n") + 1) : "#!/usr/bin/env node\n";
  writeFileSync(outfile, `${shebang}${startRecord}\n${code.startsWith("#!") ? code.slice(shebang.length) : code}`);
  chmodSync(outfile, 0o755);
  return chunks.reduce((sum, p) => sum + statSync(resolve(p)).size, statSync(outfile).size);
}

const outDir = process.argv[2];
if (!outDir) {
  console.error("usage: node scripts/bundle.mjs OUT_DIR");
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const webUi = embedWebUi(await buildWeb());
for (const [entry, name] of Object.entries(TOOLS)) {
  const size = await bundle(entry, name, outDir, [webUi]);
  const also = SPLIT.has(name) ? ` (with ${join(outDir, chunkDir(name))}/)` : "";
  console.log(`bundle: ${join(outDir, name)}  ${(size / 1024).toFixed(0)} KiB${also}`);
}
