import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAtomicWriteLeftover, withFileLock, writeFileAtomic } from "./atomic-write.ts";

describe("writeFileAtomic", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-atomic-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("200 parallel writes of one file all succeed; the file is one of them, whole; no temporary file is left", async () => {
    const path = join(dir, "node.yaml");
    const versions = Array.from({ length: 200 }, (_, i) => `hostname: node-${i}\n${"x".repeat(4096 + i)}\n`);
    const results = await Promise.allSettled(versions.map((v) => writeFileAtomic(path, v)));
    const failed = results.filter((r) => r.status === "rejected");
    assert.equal(failed.length, 0, `failed writes: ${failed.map((r) => String((r as PromiseRejectedResult).reason)).slice(0, 3).join("; ")}`);
    const text = await readFile(path, "utf8");
    assert.ok(versions.includes(text), "the file holds one complete version");
    assert.deepEqual((await readdir(dir)).filter(isAtomicWriteLeftover), []);
  });

  it("writes of one file land in call order (the last call wins)", async () => {
    const path = join(dir, "order");
    await Promise.all(Array.from({ length: 50 }, (_, i) => writeFileAtomic(path, String(i))));
    assert.equal(await readFile(path, "utf8"), "49");
  });

  it("withFileLock serialises read-modify-write: 100 parallel increments give 100", async () => {
    const path = join(dir, "counter");
    await writeFileAtomic(path, "0");
    await Promise.all(
      Array.from({ length: 100 }, () =>
        withFileLock(path, async () => {
          const n = Number(await readFile(path, "utf8"));
          await writeFileAtomic(path, String(n + 1));
        }),
      ),
    );
    assert.equal(await readFile(path, "utf8"), "100");
  });

  it("knows its own leftovers, old and new names, and nothing else", () => {
    assert.ok(isAtomicWriteLeftover(".node.yaml.0123456789ab.tmp"));
    assert.ok(isAtomicWriteLeftover(".node.yaml.4242.lz3k9a.tmp"));
    assert.ok(!isAtomicWriteLeftover("node.yaml"));
    assert.ok(!isAtomicWriteLeftover(".last-good"));
    assert.ok(!isAtomicWriteLeftover("notes.tmp"));
  });
});
