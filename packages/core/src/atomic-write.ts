/**
 * @module atomic-write
 * Crash-safe file replacement: write a temporary file in the same directory, fsync
 * it, rename it over the target, fsync the directory. A power cut leaves either the
 * old or the new content, never a mix.
 *
 * Safe under concurrency: every temporary file has a random name and is created with
 * `O_EXCL` (two writers never share one), and the writes of one path are serialised in
 * this process, so the file always holds one complete version, the last one written.
 * A read-modify-write of a file (the config store, the token store) must also hold
 * {@link withFileLock} around its read and its write.
 */
import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { KeyedMutex } from "./mutex.ts";

const writes = new KeyedMutex();
const edits = new KeyedMutex();

/** `.NAME.<12 hex>.tmp`, and the `.NAME.PID.STAMP.tmp` of earlier releases. */
const TEMP_NAME = /^\..+\.(?:[0-9a-f]{12}|\d+\.[0-9a-z]+)\.tmp$/;

/** True for the name of a temporary file that {@link writeFileAtomic} left behind when it was cut short (power loss). */
export function isAtomicWriteLeftover(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Runs `f` while no other `withFileLock` of the same path runs in this process: the
 * lock for a read-modify-write of one file. Not re-entrant.
 */
export function withFileLock<T>(path: string, f: () => Promise<T>): Promise<T> {
  return edits.run(resolve(path), f);
}

/** Replaces `path` with `data` atomically (temp + fsync + rename + fsync of the directory). */
export function writeFileAtomic(path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  return writes.run(resolve(path), () => writeNow(path, data, options.mode ?? 0o644));
}

async function writeNow(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (e) {
    await handle.close();
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await handle.close();
  try {
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
  await fsyncDir(dir);
}

/** fsyncs a directory so a rename or create in it is durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const d = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await d.sync();
  } catch (e) {
    // Some filesystems (e.g. vfat on old kernels) refuse fsync on directories.
    if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
  } finally {
    await d.close();
  }
}
