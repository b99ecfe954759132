/**
 * @module engine/preflight
 * What the installer checks before it writes a single byte to a disk. Every refusal
 * is an {@link InstallRefused} with a `reason` code and a message that says what is
 * wrong and what to do; nothing has been written when one is thrown.
 *
 * @example
 * ```ts
 * const disk = await diskInfo("/dev/vda");
 * preflight(disk, { mode: "install", imageBytes: image.sizeBytes }); // throws InstallRefused
 * ```
 */
import { formatBytes, MIN_DISK_BYTES, partition, planDisk, QxError } from "@quantix/core";
import type { DiskInfo } from "./disks.ts";

export type RefusalReason = "not-a-disk" | "read-only" | "too-small" | "boot-medium" | "mounted" | "in-use" | "image-too-large" | "no-quantix-layout";

export class InstallRefused extends QxError {
  override name = "InstallRefused";
  constructor(
    readonly reason: RefusalReason,
    readonly device: string,
    message: string,
    options?: { hint?: string; cause?: unknown },
  ) {
    super("INSTALL_REFUSED", `${device}: ${message}; nothing was written`, options);
  }
}

export interface PreflightOptions {
  readonly mode: "install" | "upgrade";
  /** Size of the system image to put in slot A. */
  readonly imageBytes: number;
}

/** Throws InstallRefused when `disk` must not be installed to; returns the planned layout otherwise. */
export function preflight(disk: DiskInfo, o: PreflightOptions): ReturnType<typeof planDisk> {
  const dev = disk.device;
  if (disk.type !== "disk" && disk.type !== "loop") {
    throw new InstallRefused("not-a-disk", dev, `is a ${disk.type}, not a whole disk`, {
      hint: disk.type === "part" ? "name the disk itself, e.g. /dev/sda rather than /dev/sda1" : "choose a hard disk or SSD",
    });
  }
  if (disk.readOnly) throw new InstallRefused("read-only", dev, "is read-only", { hint: "check the disk's write-protect switch or choose another disk" });
  if (disk.isBootMedium) {
    throw new InstallRefused("boot-medium", dev, "is the disk this system booted from", {
      hint: "choose another disk; to reinstall this node, boot the installer ISO and use upgrade mode",
    });
  }
  if (disk.mounted.length) {
    throw new InstallRefused("mounted", dev, `is in use: mounted on ${disk.mounted.join(", ")}`, { hint: "unmount it first or choose another disk" });
  }
  if (disk.holders.length) {
    throw new InstallRefused("in-use", dev, `is in use by ${disk.holders.join(", ")} (LVM or device-mapper)`, {
      hint: "deactivate it (vgchange -an) or choose another disk",
    });
  }
  if (disk.sizeBytes < MIN_DISK_BYTES) {
    throw new InstallRefused("too-small", dev, `is ${formatBytes(disk.sizeBytes)}, smaller than the ${formatBytes(MIN_DISK_BYTES)} Quantix-OS needs`, {
      hint: "choose a larger disk",
    });
  }
  const plan = planDisk(disk.sizeBytes);
  const slot = plan.partitions.find((p) => p.role === "system-a");
  if (slot && o.imageBytes > slot.sizeBytes) {
    throw new InstallRefused(
      "image-too-large",
      dev,
      `the system image (${formatBytes(o.imageBytes)}) does not fit the ${formatBytes(slot.sizeBytes)} ${partition("system-a").gptName} slot`,
      { hint: "use an installer built for this layout" },
    );
  }
  return plan;
}
