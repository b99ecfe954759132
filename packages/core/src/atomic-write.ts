/**
 * @module atomic-write
 * Crash-safe file replacement: write a temporary file in the same directory, fsync
 * it, rename it over the target, fsync the directory. A power cut leaves either the
 * old or the new content, never a mix.
 */
import { constants, promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";

/** Replaces `path` with `data` atomically (temp + fsync + rename + fsync of the directory). */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${Date.now().toString(36)}.tmp`);
  const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, options.mode ?? 0o644);
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
