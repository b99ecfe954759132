#!/usr/bin/env node
// Runs the TypeScript test files with node's own test runner (through tsx).
//   node scripts/run-tests.mjs            all unit + integration tests (packages/*/src, tests/ except tests/vm)
//   node scripts/run-tests.mjs vm [FILE...]  the VM end-to-end tier (tests/vm, or these scenario files)
//   node scripts/run-tests.mjs FILE...    just these files
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function walk(dir, out = []) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    if (e === "node_modules" || e === "dist") continue;
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (p.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
let files;
if (args[0] === "vm") files = args.length > 1 ? args.slice(1) : walk("tests/vm");
else if (args.length > 0) files = args;
else {
  files = [...readdirSync("packages").flatMap((p) => walk(join("packages", p, "src"))), ...walk("tests").filter((f) => !f.startsWith("tests/vm/"))];
}
files.sort();
if (files.length === 0) {
  console.error("run-tests: no test files found");
  process.exit(1);
}
// VM scenario files run one at a time unless QX_VM_JOBS says more: each TCG guest keeps
// one host core busy, so make test runs two files side by side on a 2-core host.
const vmJobs = Math.max(1, Number.parseInt(process.env.QX_VM_JOBS ?? "1", 10) || 1);
const concurrency = args[0] === "vm" ? [`--test-concurrency=${vmJobs}`] : [];
const r = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", ...concurrency, ...files],
  { stdio: "inherit" },
);
process.exit(r.status ?? 1);
