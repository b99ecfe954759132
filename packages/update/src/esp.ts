/**
 * @module esp
 * Access to the EFI system partition, where the two-copy GRUB environment lives.
 * On a node the partition (found by its GPT name) is mounted as vfat on
 * `/run/quantix/esp.PID` only for the duration of one read or write; in tests a plain
 * directory stands in for it.
 *
 * The mount point is the process's own: qx-node (status reads), the boot-time health
 * gate and qx-boot may use the ESP at the same moment, and with one shared mount
 * point one of them unmounted it between another's writes of the two environment
 * copies (the backup copy was then written into the tmpfs under it, and went missing).
 * Two mounts of one block device share its superblock and page cache, so every
 * process sees the same files; each unmounts only its own.
 *
 * @example
 * ```ts
 * const esp = mountedEsp();
 * const env = await esp.use((root) => readBootEnv(root));
 * ```
 */
import { promises as fs } from "node:fs";
import { partition, run } from "@quantix/core";
import { findPartitionByName } from "./devices.ts";
import { EspError } from "./errors.ts";

/** Where the ESP is mounted while qx-update works with it (`.PID` appended: one per process). */
export const ESP_MOUNTPOINT = "/run/quantix/esp";

export interface EspAccess {
  /** Runs `fn` with the ESP's root directory available, then releases it. */
  use<T>(fn: (root: string) => Promise<T>): Promise<T>;
}

/** A directory laid out like the ESP (tests, or an ESP someone else mounted). */
export function dirEsp(root: string): EspAccess {
  return { use: (fn) => fn(root) };
}

/** The node's ESP: mounted vfat on {@link ESP_MOUNTPOINT} around each use, unmounted after. */
export function mountedEsp(options: { mountpoint?: string; device?: () => Promise<string> } = {}): EspAccess {
  const mountpoint = options.mountpoint ?? `${ESP_MOUNTPOINT}.${process.pid}`;
  const device = options.device ?? (() => findPartitionByName(partition("efi").gptName));
  let queue: Promise<unknown> = Promise.resolve();
  const once = async <T>(fn: (root: string) => Promise<T>): Promise<T> => {
    const dev = await device();
    await fs.mkdir(mountpoint, { recursive: true });
    // A mount left over by a killed run of the same PID is reused (and unmounted below).
    const mounts = await fs.readFile("/proc/mounts", "utf8").catch(() => "");
    const already = mounts.split("\n").some((l) => l.split(" ")[1] === mountpoint);
    // iocharset: the kernel default (ascii) has no NLS module in the image; iso8859-1 does.
    if (!already) {
      try {
        await run("mount", ["-t", partition("efi").filesystem, "-o", "rw,noatime,flush,iocharset=iso8859-1", dev, mountpoint]);
      } catch (e) {
        throw new EspError(`cannot mount the ESP ${dev} on ${mountpoint}`, { cause: e, hint: "is the vfat module available?" });
      }
    }
    try {
      return await fn(mountpoint);
    } finally {
      await run("sync", ["-f", mountpoint], { allowFailure: true }).catch(() => undefined);
      const r = await run("umount", [mountpoint], { allowFailure: true }).catch((e: Error) => ({ exitCode: 1, stderr: e.message }));
      if (r.exitCode !== 0) process.stderr.write(`qx-update: warning: cannot unmount ${mountpoint}: ${r.stderr.trim()}\n`);
      else await fs.rmdir(mountpoint).catch(() => undefined);
    }
  };
  return {
    use<T>(fn: (root: string) => Promise<T>): Promise<T> {
      // One mount at a time: uses are serialised.
      const p = queue.then(() => once(fn));
      queue = p.catch(() => undefined);
      return p;
    },
  };
}
