/**
 * @module devices
 * Finds partitions by their GPT name (sysfs `PARTNAME`), as the initramfs does, so
 * nothing here repeats a partition number or a device path.
 *
 * @example
 * ```ts
 * await findPartitionByName(partition("system-b").gptName); // "/dev/vda3"
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { NotInstalledError } from "./errors.ts";

/** The device node of the (first) partition named `gptName`, or throws NotInstalledError. */
export async function findPartitionByName(gptName: string, sysfs = "/sys/class/block", dev = "/dev"): Promise<string> {
  const names = (await fs.readdir(sysfs).catch(() => [] as string[])).sort();
  for (const n of names) {
    const uevent = await fs.readFile(join(sysfs, n, "uevent"), "utf8").catch(() => "");
    if (uevent.split("\n").some((l) => l === `PARTNAME=${gptName}`)) return join(dev, n);
  }
  throw new NotInstalledError(`no partition named ${gptName}`, { hint: "is this an installed Quantix-OS node?" });
}
