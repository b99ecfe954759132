import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterEach, beforeEach, describe, it } from "node:test";
import { hashRegion, SlotWriteError, writeSlot } from "./slot-writer.ts";

describe("slot writer", () => {
  let dir = "";
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-slot-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes at the offset, leaves the rest of the disk alone, and verifies by read-back", async () => {
    const disk = join(dir, "disk.img");
    await writeFile(disk, Buffer.alloc(20 * 1024 * 1024, 0x5a));
    const data = randomBytes(9 * 1024 * 1024 + 123);
    const r = await writeSlot(Readable.from([data.subarray(0, 5000), data.subarray(5000)]), { path: disk, offset: 4 * 1024 * 1024, size: 10 * 1024 * 1024 });
    assert.equal(r.bytes, data.length);
    assert.equal(r.sha256, createHash("sha256").update(data).digest("hex"));
    const after = await readFile(disk);
    assert.ok(after.subarray(0, 4 * 1024 * 1024).every((b) => b === 0x5a), "before the slot untouched");
    assert.deepEqual(after.subarray(4 * 1024 * 1024, 4 * 1024 * 1024 + data.length), data);
    assert.ok(after.subarray(14 * 1024 * 1024).every((b) => b === 0x5a), "after the slot untouched");
    assert.equal(await hashRegion({ path: disk, offset: 4 * 1024 * 1024, size: data.length }), r.sha256);
  });

  it("refuses an image larger than the slot without writing past it", async () => {
    const disk = join(dir, "disk.img");
    await writeFile(disk, Buffer.alloc(12 * 1024 * 1024, 0));
    await assert.rejects(
      writeSlot(Readable.from([randomBytes(6 * 1024 * 1024)]), { path: disk, offset: 1024 * 1024, size: 5 * 1024 * 1024 }),
      (e: unknown) => e instanceof SlotWriteError && /larger than the slot/.test(e.message),
    );
    const after = await readFile(disk);
    assert.ok(after.subarray(6 * 1024 * 1024).every((b) => b === 0));
  });

  it("fails when the source does not match the expected hash", async () => {
    const disk = join(dir, "disk.img");
    await writeFile(disk, Buffer.alloc(2 * 1024 * 1024));
    await assert.rejects(
      writeSlot(Readable.from([Buffer.from("hello")]), { path: disk, offset: 0, size: 1024 * 1024 }, { expectedSha256: "0".repeat(64) }),
      /source changed or is corrupt/,
    );
  });
});
