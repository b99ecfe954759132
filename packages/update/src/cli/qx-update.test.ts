/**
 * The CLI over a fake node (--root, --esp-dir, --disk-image): exit codes, --json,
 * one-line errors, status text, and the `npx qx-update` launcher.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { type FakeNode, makeFakeNode, makeImage, makeSigningKey, type SigningKey, signFile, tempDir } from "../test-support.ts";
import { EXIT } from "./exit-codes.ts";

const here = fileURLToPath(new URL(".", import.meta.url));
const LAUNCHER = resolve(here, "../../bin/qx-update.mjs");

function cli(node: FakeNode, ...args: string[]) {
  const r = spawnSync(process.execPath, [LAUNCHER, ...args, "--root", node.root, "--esp-dir", node.esp, "--disk-image", node.disk], { encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("qx-update CLI", { timeout: 120_000 }, () => {
  let dir: string;
  let key: SigningKey;
  let node: FakeNode;
  let img: string;
  before(async () => {
    dir = await tempDir("cli");
    key = await makeSigningKey("cli");
    node = await makeFakeNode("1.0.0", [key]);
    img = await makeImage(dir, { version: "1.1.0" });
    await signFile(img, key);
  });
  after(async () => {
    for (const d of [dir, node?.dir, key?.home]) if (d) await fs.rm(d, { recursive: true, force: true });
  });

  it("verify: OK with the signer; unsigned → exit 3 and one line on stderr", async () => {
    const ok = cli(node, "verify", img);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /OK: Quantix-OS 1\.1\.0 \(x86_64\).*signed by [0-9A-F]{40}/);
    const unsigned = join(dir, "u.squashfs");
    await fs.copyFile(img, unsigned);
    await fs.copyFile(`${img}.sha256`, `${unsigned}.sha256`);
    const bad = cli(node, "verify", unsigned, "--json");
    assert.equal(bad.code, EXIT.rejected);
    assert.equal(bad.stderr.trim().split("\n").length, 1);
    assert.match(bad.stderr, /not signed/);
    assert.equal(JSON.parse(bad.stdout).error.exit, EXIT.rejected);
  });

  it("verify: a signed image older than the running version → exit 3 with the way out; accepted with --allow-downgrade", async () => {
    const old = await makeImage(dir, { version: "0.0.9" });
    await signFile(old, key);
    const refused = cli(node, "verify", old);
    assert.equal(refused.code, EXIT.rejected, refused.stderr);
    // The error is the last line (the checks before it are logged as they run).
    assert.match(refused.stderr.trim().split("\n").at(-1) ?? "", /^qx-update: .*0\.0\.9 is older than the running 1\.0\.0: downgrades are refused.*--allow-downgrade/);
    const ok = cli(node, "verify", old, "--allow-downgrade");
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /OK: Quantix-OS 0\.0\.9/);
    const install = cli(node, "--image", old);
    assert.equal(install.code, EXIT.rejected, "and --image refuses it too");
  });

  it("--image, status, reinstall over a trying slot, rollback refused with exit 4", async () => {
    const r = cli(node, "--image", img, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).slot, "B");
    const st = cli(node, "status", "--json");
    assert.equal(st.code, 0, st.stderr);
    const s = JSON.parse(st.stdout);
    assert.equal(s.nextBoot, "B");
    assert.equal(s.slots[1].status, "trying");
    const text = cli(node, "status");
    assert.match(text.stdout, /slot B: trying, 3 tries left {2}version 1\.1\.0 {2}\[primary\]/);
    const again = cli(node, "--image", img);
    assert.equal(again.code, EXIT.ok, "installing again over the trying slot from good A is allowed");
    const rb = cli(node, "rollback");
    assert.equal(rb.code, EXIT.slotState);
    assert.match(rb.stderr, /cannot roll back to slot B: it is trying/);
  });

  it("usage errors exit 2", () => {
    assert.equal(cli(node, "--no-such-option").code, EXIT.usage);
    assert.equal(cli(node).code, EXIT.usage);
  });
});
