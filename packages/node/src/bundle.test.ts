import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "@quantix/core";
import { getLocal } from "./client.ts";
import type { HealthDocument } from "./services/health.ts";
import { makeRoot, removeRoot } from "./test-support.ts";

/** Runs a command and returns its exit code and output, never throwing on a non-zero exit. */
function exec(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 99) : 0, stdout, stderr });
    });
  });
}

async function waitFor(path: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await stat(path).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} did not appear within ${ms} ms`);
}

describe("bundled tools (scripts/bundle.mjs)", () => {
  let out = "";
  let root = "";
  let daemon: ChildProcess | null = null;
  before(async () => {
    out = await mkdtemp(join(tmpdir(), "qx-bundle-"));
    root = await makeRoot({ "quantix/firstboot.done": "" });
    await run(process.execPath, ["scripts/bundle.mjs", out], { timeoutMs: 60_000 });
  });
  after(async () => {
    daemon?.kill("SIGKILL");
    await rm(out, { recursive: true, force: true });
    await removeRoot(root);
  });

  it("qx-node (an entry and its chunks) and qx-console (one file) are executables that start without node_modules", async () => {
    for (const name of ["qx-node", "qx-console"]) {
      const st = await stat(join(out, name));
      assert.equal(st.mode & 0o777, 0o755, name);
    }
    assert.ok((await readdir(join(out, "qx-node.chunks"))).some((f) => f.endsWith(".mjs")), "qx-node's chunks are beside it");
    const sock = join(root, "run/quantix/qx-node.sock");
    const unreachable = await exec(join(out, "qx-node"), ["health", "--socket", sock]);
    assert.equal(unreachable.code, 2, unreachable.stderr);
    assert.match(unreachable.stderr, /not answering on .*qx-node\.sock: no such socket/);

    const port = 20_000 + Math.floor(Math.random() * 30_000);
    daemon = spawn(join(out, "qx-node"), ["serve", "--root", root, "--port", String(port)], { cwd: tmpdir(), stdio: "ignore" });
    await waitFor(sock, 15_000);
    const res = await getLocal<HealthDocument>(sock, "/api/v1/health");
    assert.equal(res.status, res.body.status === "healthy" ? 200 : 503);
    assert.equal(res.body.version, "1.2.3");

    const health = await exec(join(out, "qx-node"), ["health", "--socket", sock, "--json"]);
    const doc = JSON.parse(health.stdout) as HealthDocument;
    assert.equal(health.code, doc.status === "healthy" ? 0 : 1);

    const banner = await exec(join(out, "qx-console"), ["--banner", "--once", "--socket", sock]);
    assert.equal(banner.code, 0, banner.stderr);
    assert.match(banner.stdout, /QUANTIX-OS v1\.2\.3/);
    assert.match(banner.stdout, new RegExp(`Management URL: https://[0-9.]+:${port}`));

    const d = daemon;
    const exited = new Promise<number | null>((r) => d.once("exit", (code) => r(code)));
    d.kill("SIGTERM");
    assert.equal(await exited, 0, "SIGTERM closes gracefully with exit 0");
    await assert.rejects(stat(sock), "the socket is removed on shutdown");
    daemon = null;
  });
});
