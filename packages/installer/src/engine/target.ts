/**
 * @module engine/target
 * The disk an install writes to: a block device (install/upgrade modes) or a disk
 * image file (image mode). Hands out the byte region of each planned partition:
 * for an image, a range of the file; for a device, the partition's own device node.
 */
import { promises as fs } from "node:fs";
import { basename, join } from "node:path";
import { type BlockRegion, type DiskPlan, type PartitionRole, type PlannedPartition, QxError, run } from "@quantix/core";

export class TargetError extends QxError {
  override name = "TargetError";
  constructor(
    message: string,
    readonly target: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("TARGET", `${target}: ${message}`, options);
  }
}

export interface InstallTarget {
  readonly kind: "image" | "device";
  readonly path: string;
  readonly plan: DiskPlan;
  part(role: PartitionRole): PlannedPartition;
  /** Where a partition's bytes live. Valid after `partition` ran. */
  region(role: PartitionRole): Promise<BlockRegion>;
  /** mtools `-i` argument for the ESP. */
  mtoolsImage(): Promise<string>;
}

export function makeTarget(kind: "image" | "device", path: string, plan: DiskPlan, sysfs = "/sys/class/block"): InstallTarget {
  const part = (role: PartitionRole): PlannedPartition => {
    const p = plan.partitions.find((x) => x.role === role);
    if (!p) throw new TargetError(`layout has no ${role} partition`, path);
    return p;
  };
  const region = async (role: PartitionRole): Promise<BlockRegion> => {
    const p = part(role);
    if (kind === "image") return { path, offset: p.offsetBytes, size: p.sizeBytes };
    return { path: await partitionDevice(path, p.number, sysfs), offset: 0, size: p.sizeBytes };
  };
  return {
    kind,
    path,
    plan,
    part,
    region,
    async mtoolsImage() {
      const r = await region("efi");
      return r.offset ? `${r.path}@@${r.offset}` : r.path;
    },
  };
}

async function findPartition(name: string, number: number, sysfs: string): Promise<string | null> {
  const entries = await fs.readdir(join(sysfs, name)).catch(() => [] as string[]);
  for (const e of entries) {
    if (!e.startsWith(name)) continue;
    const p = await fs.readFile(join(sysfs, name, e, "partition"), "utf8").catch(() => "");
    if (Number(p.trim()) !== number) continue;
    const dev = `/dev/${e}`;
    if (await fs.access(dev).then(
      () => true,
      () => false,
    ))
      return dev;
  }
  return null;
}

/**
 * The device node of partition `number` of `disk`, found through sysfs (`sda` → `sda3`,
 * `nvme0n1` → `nvme0n1p3`). Waits up to `timeoutMs`: closing a disk opened for writing
 * (the MBR write) makes udev re-read its partition table, and the partitions vanish
 * from sysfs for a moment while it does.
 */
export async function partitionDevice(disk: string, number: number, sysfs = "/sys/class/block", timeoutMs = 15_000): Promise<string> {
  const name = basename(await fs.realpath(disk));
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const dev = await findPartition(name, number, sysfs);
    if (dev) return dev;
    if (Date.now() > deadline) break;
    if (attempt === 2) await rereadPartitions(disk);
    else await run("udevadm", ["settle", "--timeout=5"], { allowFailure: true }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new TargetError(`partition ${number} has no device node after ${timeoutMs / 1000} s`, disk, { hint: "the kernel did not re-read the partition table" });
}

/** Asks the kernel to (re)read the partition table of a device. */
export async function rereadPartitions(disk: string): Promise<void> {
  await run("partx", ["-u", disk], { allowFailure: true });
  await run("partx", ["-a", disk], { allowFailure: true });
  await run("udevadm", ["settle", "--timeout=10"], { allowFailure: true }).catch(() => undefined);
}
