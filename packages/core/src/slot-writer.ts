/**
 * @module slot-writer
 * Writes a system image byte for byte into a slot (a partition device, or a region
 * of a disk image file), then makes it durable and proves it: fsync, read back, and
 * compare the SHA-256 of what is on the target with the SHA-256 of what was read from
 * the source. Shared by the installer (install and image modes) and qx-update.
 *
 * @example
 * ```ts
 * const r = await writeSlot(createReadStream(img), { path: "/dev/vda3", offset: 0, size: 300 * MiB });
 * r.sha256; // hash of the bytes written, re-checked on the target
 * ```
 */
import { createHash } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import type { Readable } from "node:stream";
import { QxError } from "./errors.ts";

/** A byte range on a block device or file. */
export interface BlockRegion {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
}

export interface SlotWriteResult {
  readonly bytes: number;
  readonly sha256: string;
  readonly writeMs: number;
  readonly verifyMs: number;
}

export class SlotWriteError extends QxError {
  override name = "SlotWriteError";
  constructor(
    message: string,
    readonly region: BlockRegion,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("SLOT_WRITE", `${region.path}@${region.offset}: ${message}`, options);
  }
}

const CHUNK = 4 * 1024 * 1024;

/**
 * Streams `source` into `region`. Refuses (before the region is touched past its end)
 * an image larger than the region. `onProgress(bytesDone)` is called per chunk.
 * `expectedSha256`, when given, must match what was read from the source, else the
 * write fails (the caller then leaves the slot marked bad).
 */
export async function writeSlot(
  source: Readable,
  region: BlockRegion,
  options: { expectedSha256?: string; onProgress?: (phase: "write" | "verify", done: number) => void } = {},
): Promise<SlotWriteResult> {
  const t0 = performance.now();
  const hash = createHash("sha256");
  const fh = await fs.open(region.path, constants.O_WRONLY | (region.path.startsWith("/dev/") ? 0 : constants.O_CREAT));
  let pos = 0;
  try {
    let pending: Buffer = Buffer.alloc(0);
    const flush = async (buf: Buffer) => {
      if (pos + buf.length > region.size) {
        throw new SlotWriteError(`image is larger than the slot (${region.size} bytes)`, region, {
          hint: "use an image built for this layout",
        });
      }
      let off = 0;
      while (off < buf.length) {
        const { bytesWritten } = await fh.write(buf, off, buf.length - off, region.offset + pos + off);
        off += bytesWritten;
      }
      pos += buf.length;
      options.onProgress?.("write", pos);
    };
    for await (const chunk of source) {
      const b = chunk as Buffer;
      hash.update(b);
      pending = pending.length ? Buffer.concat([pending, b]) : b;
      if (pending.length >= CHUNK) {
        await flush(pending);
        pending = Buffer.alloc(0);
      }
    }
    if (pending.length) await flush(pending);
    await fh.sync();
  } finally {
    await fh.close();
  }
  const sha256 = hash.digest("hex");
  if (options.expectedSha256 && options.expectedSha256 !== sha256) {
    throw new SlotWriteError(`source changed or is corrupt: sha256 ${sha256}, expected ${options.expectedSha256}`, region);
  }
  const t1 = performance.now();
  const back = await hashRegion({ ...region, size: pos }, (d) => options.onProgress?.("verify", d));
  if (back !== sha256) {
    throw new SlotWriteError(`read-back mismatch: wrote ${sha256}, read ${back}`, region, {
      hint: "the disk may be failing; the slot stays marked bad",
    });
  }
  return { bytes: pos, sha256, writeMs: t1 - t0, verifyMs: performance.now() - t1 };
}

/**
 * SHA-256 of `region` as stored. For a block device the page cache is dropped first
 * (the data was fsynced), so the read-back comes from the disk.
 */
export async function hashRegion(region: BlockRegion, onProgress?: (done: number) => void): Promise<string> {
  if (region.path.startsWith("/dev/")) {
    await fs.writeFile("/proc/sys/vm/drop_caches", "1").catch(() => undefined);
  }
  const hash = createHash("sha256");
  const fh = await fs.open(region.path, constants.O_RDONLY);
  try {
    const buf = Buffer.alloc(CHUNK);
    let done = 0;
    while (done < region.size) {
      const want = Math.min(CHUNK, region.size - done);
      const { bytesRead } = await fh.read(buf, 0, want, region.offset + done);
      if (bytesRead === 0) throw new SlotWriteError(`short read at byte ${done} of ${region.size}`, region);
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
      onProgress?.(done);
    }
  } finally {
    await fh.close();
  }
  return hash.digest("hex");
}
