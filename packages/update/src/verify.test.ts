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

  it("no .sha256 beside the image → refused", async () => {
    const p = await copyOf(good, "nosum.squashfs");
    await fs.rm(`${p}.sha256`);
    await expectRejected(p, "checksum", /no checksum file/);
  });
});
