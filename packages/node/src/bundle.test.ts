import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { request } from "node:https";
import { createConnection } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { run } from "@quantix/core";
import { getLocal } from "./client.ts";
import type { HealthDocument } from "./services/health.ts";
import { makeRoot, removeRoot } from "./test-support.ts";

/** Runs a command and returns its exit code and output, never throwing on a non-zero exit. */
function exec(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 99) : 0, stdout, stderr });
    });
    child.stdin?.end(input ?? "");
  });
}

/** An HTTPS call to the daemon (its self-signed certificate accepted: the test started it). */
function https(port: number, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; json: { token?: string } }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: "127.0.0.2",
        port,
        method,
        path,
        rejectUnauthorized: false,
        headers: { ...(payload ? { "content-type": "application/json" } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text || "{}") }));
      },
    );
    req.on("error", reject);
    req.end(payload);
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
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.match(unreachable.stderr, /not answering on .*qx-node\.sock: no such socket/);

    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const bad = await exec(join(out, "qx-node"), ["serve", "--root", root, "--listen", "not-an-address", "--port", String(port)]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--listen.*expected an IPv4 or IPv6 address/);
    daemon = spawn(join(out, "qx-node"), ["serve", "--root", root, "--listen", "127.0.0.2", "--port", String(port)], { cwd: tmpdir(), stdio: "ignore" });
    await waitFor(sock, 15_000);
    // --listen: the API answers on 127.0.0.2 only, not on the rest of loopback.
    const tcp = (host: string) =>
      new Promise<string>((r) => {
        const c = createConnection({ host, port }, () => {
          c.destroy();
          r("open");
        });
        c.on("error", (e: NodeJS.ErrnoException) => r(e.code ?? "error"));
      });
    assert.equal(await tcp("127.0.0.2"), "open");
    assert.equal(await tcp("127.0.0.1"), "ECONNREFUSED");
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

    // A password reset at the console while the daemon runs ends the sessions it holds.
    const initial = (await readFile(join(root, "run/quantix/initial-admin-password"), "utf8")).trim();
    const login = await https(port, "POST", "/api/v1/auth/login", { username: "admin", password: initial });
    assert.equal(login.status, 200);
    const session = login.json.token as string;
    assert.equal((await https(port, "GET", "/api/v1/auth/whoami", undefined, session)).status, 200);
    const reset = await exec(join(out, "qx-node"), ["set-admin-password", "--root", root, "--socket", sock], "console-reset-password\n");
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /admin password set; 1 session\(s\) ended; API tokens still valid/);
    assert.equal((await https(port, "GET", "/api/v1/auth/whoami", undefined, session)).status, 401, "the session ended with the reset");
    assert.equal((await https(port, "POST", "/api/v1/auth/login", { username: "admin", password: "console-reset-password" })).status, 200);

    const d = daemon;
    const exited = new Promise<number | null>((r) => d.once("exit", (code) => r(code)));
    d.kill("SIGTERM");
    assert.equal(await exited, 0, "SIGTERM closes gracefully with exit 0");
    await assert.rejects(stat(sock), "the socket is removed on shutdown");
    daemon = null;
    const offline = await exec(join(out, "qx-node"), ["set-admin-password", "--root", root, "--socket", sock, "--revoke-tokens"], "offline-reset-password\n");
    assert.equal(offline.code, 0, offline.stderr);
    assert.match(offline.stdout, /qx-node is not running: no session was open; 0 API token\(s\) revoked/);
  });
});
