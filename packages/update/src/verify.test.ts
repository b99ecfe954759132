/**
 * Bad images: each is rejected before anything is touched (both GRUB env copies and
 * both slots byte-identical afterwards) with a one-line error naming the reason.
 */
import assert from "node:assert/strict";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { readBootEnv } from "@quantix/core";
import { ImageRejectedError, type RejectReason } from "./errors.ts";
import { applyUpdate } from "./install.ts";
import type { SlotTargets } from "./slot-targets.ts";
import { envBytes, type FakeNode, makeFakeNode, makeImage, makeSigningKey, type SigningKey, signFile, slotHash, tempDir } from "./test-support.ts";
import { verifyImage } from "./verify.ts";

describe("pre-write checks", { timeout: 120_000 }, () => {
  let dir: string;
  let trusted: SigningKey;
  let stranger: SigningKey;
  let node: FakeNode;
  let good: string;
  before(async () => {
    dir = await tempDir("verify");
    [trusted, stranger] = await Promise.all([makeSigningKey("trusted"), makeSigningKey("stranger")]);
    node = await makeFakeNode("1.0.0", [trusted]);
    good = await makeImage(dir, { version: "1.1.0" });
    await signFile(good, trusted);
  });
  after(async () => {
    for (const d of [dir, node?.dir, trusted?.home, stranger?.home]) if (d) await fs.rm(d, { recursive: true, force: true });
  });

  async function copyOf(src: string, name: string): Promise<string> {
    const p = join(dir, name);
    await fs.copyFile(src, p);
    for (const ext of [".sha256", ".sig"]) await fs.copyFile(`${src}${ext}`, `${p}${ext}`).catch(() => undefined);
    return p;
  }

  async function expectRejected(image: string, reason: RejectReason, pattern: RegExp, slots?: SlotTargets): Promise<void> {
    const before = { env: await envBytes(node), a: await slotHash(node, "A"), b: await slotHash(node, "B") };
    await assert.rejects(applyUpdate(node.ctx(slots ? { slots } : {}), { image }), (e: unknown) => {
      assert.ok(e instanceof ImageRejectedError, `ImageRejectedError, got ${String(e)}`);
      assert.equal(e.reason, reason);
      assert.match(e.message, pattern);
      assert.doesNotMatch(e.message, /\n/, "one line");
      return true;
    });
    assert.equal(await envBytes(node), before.env, "boot env untouched");
    assert.equal(await slotHash(node, "A"), before.a, "active slot untouched");
    assert.equal(await slotHash(node, "B"), before.b, "inactive slot untouched");
    const env = await readBootEnv(node.esp);
    assert.equal(env.state.primary, "A");
    assert.equal(env.state.slots.A.status, "good");
  }

  it("accepts a good signed image and names the signer", async () => {
    const v = await verifyImage(good, { keysDir: join(node.root, "etc/quantix/keys"), allowUnsigned: false, running: { version: "1.0.0", arch: "x86_64" }, slotBytes: 300 * 2 ** 20 });
    assert.equal(v.version, "1.1.0");
    assert.match(v.signedBy ?? "", /^[0-9A-F]{40}$/);
  });

  it("truncated → checksum mismatch", async () => {
    const p = await copyOf(good, "truncated.squashfs");
    const st = await fs.stat(p);
    await fs.truncate(p, Math.floor(st.size / 2));
    await expectRejected(p, "checksum", /SHA-256 mismatch/);
  });

  it("one bit flipped → checksum mismatch", async () => {
    const p = await copyOf(good, "bitflip.squashfs");
    const b = await fs.readFile(p);
    b[Math.floor(b.length / 2)] = (b[Math.floor(b.length / 2)] as number) ^ 0x01;
    await fs.writeFile(p, b);
    await expectRejected(p, "checksum", /SHA-256 mismatch/);
  });

  it("one bit flipped with a matching .sha256 → bad signature", async () => {
    const p = await copyOf(good, "bitflip2.squashfs");
    const b = await fs.readFile(p);
    b[1000] = (b[1000] as number) ^ 0x80;
    await fs.writeFile(p, b);
    const sig = await fs.readFile(`${good}.sig`);
    await signFile(p, null);
    await fs.writeFile(`${p}.sig`, sig);
    await expectRejected(p, "signature", /bad signature/);
  });

  it("unsigned → refused unless node.yaml allows it", async () => {
    const p = await copyOf(good, "unsigned.squashfs");
    await fs.rm(`${p}.sig`);
    await expectRejected(p, "unsigned", /not signed.*allow_unsigned/);
    await node.setNodeYaml("node_id: 550e8400-e29b-41d4-a716-446655440000\nhostname: qx-test\nupdate:\n  allow_unsigned: true\n");
    try {
      const v = await verifyImage(p, { keysDir: node.ctx().keysDir, allowUnsigned: (await node.ctx().settings()).allow_unsigned, running: { version: "1.0.0", arch: "x86_64" }, slotBytes: 300 * 2 ** 20 });
      assert.equal(v.signedBy, null);
    } finally {
      await fs.rm(join(node.root, "quantix/node.yaml"));
    }
  });

  it("signed by an unknown key → refused", async () => {
    const p = await copyOf(good, "stranger.squashfs");
    await signFile(p, stranger);
    await expectRejected(p, "signature", /unknown key/);
  });

  it("not a squashfs (signed random bytes) → refused", async () => {
    const p = join(dir, "random.squashfs");
    await fs.writeFile(p, Buffer.alloc(200_000, 7));
    await signFile(p, trusted);
    await expectRejected(p, "not-squashfs", /not a squashfs/);
  });

  it("larger than the slot → refused", async () => {
    const small: SlotTargets = { region: async (s) => ({ ...(await node.slots.region(s)), size: 64 * 1024 }) };
    await expectRejected(good, "too-large", /larger than the 65536-byte slot/, small);
  });

  it("empty → refused", async () => {
    const p = join(dir, "empty.squashfs");
    await fs.writeFile(p, "");
    await signFile(p, trusted);
    await expectRejected(p, "empty", /empty/);
  });

  it("same version as running → refused", async () => {
    const p = await makeImage(dir, { version: "1.0.0" });
    await signFile(p, trusted);
    await expectRejected(p, "same-version", /1\.0\.0 is the running version/);
  });

  it("another architecture → refused", async () => {
    const p = await makeImage(dir, { version: "1.2.0", arch: "aarch64" });
    await signFile(p, trusted);
    await expectRejected(p, "arch", /built for aarch64/);
  });

  it("no kernel in the image → refused", async () => {
    const p = await makeImage(dir, { version: "1.3.0", kernel: false });
    await signFile(p, trusted);
    await expectRejected(p, "no-kernel", /\/boot\/vmlinuz/);
  });

  it("no .sha256 beside a signed image → accepted: the signature proves the bytes; a given SHA-256 is still checked", async () => {
    const p = await copyOf(good, "nosum.squashfs");
    await fs.rm(`${p}.sha256`);
    const o = { keysDir: node.ctx().keysDir, allowUnsigned: false, running: { version: "1.0.0", arch: "x86_64" }, slotBytes: 300 * 2 ** 20 };
    const v = await verifyImage(p, o);
    assert.match(v.signedBy ?? "", /^[0-9A-F]{40}$/);
    const want = (await fs.readFile(`${good}.sha256`, "utf8")).slice(0, 64);
    assert.equal((await verifyImage(p, { ...o, sha256: want })).sha256, want);
    await assert.rejects(verifyImage(p, { ...o, sha256: "0".repeat(64) }), (e: unknown) => e instanceof ImageRejectedError && e.reason === "checksum" && /SHA-256 mismatch.*the SHA-256 given says 0000/.test(e.message));
    await assert.rejects(verifyImage(p, { ...o, sha256: "xyz" }), /not 64 hex digits/);
  });

  it("unsigned and no .sha256 → refused even where unsigned images are allowed (nothing proves the bytes)", async () => {
    const p = await copyOf(good, "nothing.squashfs");
    await fs.rm(`${p}.sha256`);
    await fs.rm(`${p}.sig`);
    await assert.rejects(
      verifyImage(p, { keysDir: node.ctx().keysDir, allowUnsigned: true, running: { version: "1.0.0", arch: "x86_64" }, slotBytes: 300 * 2 ** 20 }),
      (e: unknown) => e instanceof ImageRejectedError && e.reason === "checksum" && /neither signed nor checksummed/.test(e.message),
    );
  });

  it("a version that is not semver → refused", async () => {
    const p = await makeImage(dir, { version: "nightly" });
    await signFile(p, trusted);
    await expectRejected(p, "no-version", /not a semantic version/);
  });
  it("a signed image older than the running version → refused (downgrade), accepted when asked or allowed in node.yaml", async () => {
    const old = await makeImage(dir, { version: "0.9.9" });
    await signFile(old, trusted);
    await expectRejected(old, "downgrade", /0\.9\.9 is older than the running 1\.0\.0: downgrades are refused/);
    await assert.rejects(applyUpdate(node.ctx(), { image: old }), (e: unknown) => {
      assert.match((e as ImageRejectedError).hint ?? "", /--allow-downgrade/);
      return true;
    });
    const o = { keysDir: node.ctx().keysDir, allowUnsigned: false, running: { version: "1.0.0", arch: "x86_64" }, slotBytes: 300 * 2 ** 20 };
    assert.equal((await verifyImage(old, { ...o, allowDowngrade: true })).version, "0.9.9");
    // Versions compare as semver, not as strings: 1.10.0 is newer than 1.9.0, a pre-release older than its release.
    assert.equal((await verifyImage(old, { ...o, running: { version: "0.9.9-rc.1", arch: "x86_64" } })).version, "0.9.9");
    const ten = await makeImage(dir, { version: "1.10.0" });
    await signFile(ten, trusted);
    assert.equal((await verifyImage(ten, { ...o, running: { version: "1.9.0", arch: "x86_64" } })).version, "1.10.0");
    await assert.rejects(verifyImage(old, { ...o, running: { version: "1.0.0-rc.1", arch: "x86_64" } }), /downgrades are refused/);
    await node.setNodeYaml("node_id: 550e8400-e29b-41d4-a716-446655440000\nhostname: qx-test\nupdate:\n  allow_downgrade: true\n");
    try {
      const r = await applyUpdate(node.ctx(), { image: old });
      assert.equal(r.version, "0.9.9");
    } finally {
      await fs.rm(join(node.root, "quantix/node.yaml"));
    }
  });

});
