/**
 * @module engine/install
 * Runs the install engine: checks the target, then each phase of the mode in order,
 * reporting every phase with its duration. The same engine serves every mode:
 *
 * - `image`: a disk image file (`make disk`), built as `<target>.work` and renamed;
 * - `install`: a block device, erased after {@link preflight} accepted it;
 * - `upgrade`: a block device already carrying the layout; keeps /quantix and /data.
 *
 * @example
 * ```ts
 * await install({ mode: "image", target: "out.img", imagePath: "system.squashfs", sizeBytes: 2 * GiB });
 * await install({ mode: "install", target: "/dev/vda", imagePath: "/run/qx/system.squashfs" });
 * ```
 */
import { promises as fs } from "node:fs";
import { MIN_DISK_BYTES, openSystemImage, planDisk, run } from "@quantix/core";
import { type DiskEnv, defaultDiskEnv, diskInfo } from "./disks.ts";
import { checkExistingLayout } from "./existing-layout.ts";
import { type DataFormat, type InstallEvent, type InstallMode, phasesFor } from "./phases.ts";
import { preflight } from "./preflight.ts";
import { makeTarget, TargetError } from "./target.ts";

export interface InstallRequest {
  readonly mode: InstallMode;
  /** Device (`/dev/vda`) or, in image mode, the image file to create. */
  readonly target: string;
  /** The system image (squashfs) to install into slot A. */
  readonly imagePath: string;
  /** Image mode: size of the disk image. */
  readonly sizeBytes?: number;
  readonly cmdline?: string;
  readonly configFiles?: Record<string, string | Buffer>;
  /** Data partition: XFS (default) or an LVM volume group (devices only). */
  readonly data?: DataFormat;
  readonly log?: (e: InstallEvent) => void;
  /** How disks are inspected (tests point it at fakes). */
  readonly diskEnv?: DiskEnv;
}

export interface InstallReport {
  readonly version: string;
  readonly phases: { name: string; ms: number; detail?: string }[];
  readonly totalMs: number;
}

/** Runs an install. In image mode the image is built as `<target>.work` and renamed on success. */
export async function install(req: InstallRequest): Promise<InstallReport> {
  const t0 = performance.now();
  const log = req.log ?? (() => undefined);
  const image = await openSystemImage(req.imagePath);
  let plan: ReturnType<typeof planDisk>;
  if (req.mode === "image") {
    plan = planDisk(req.sizeBytes ?? Math.ceil(MIN_DISK_BYTES / 2 ** 30) * 2 ** 30);
    const slot = plan.partitions.find((p) => p.role === "system-a");
    if (slot && image.sizeBytes > slot.sizeBytes) {
      throw new TargetError(`system image (${image.sizeBytes} bytes) is larger than the slot (${slot.sizeBytes})`, req.imagePath);
    }
  } else {
    // Every refusal happens here, before anything is written.
    const env = req.diskEnv ?? defaultDiskEnv();
    const disk = await diskInfo(req.target, env).catch((e) => {
      throw new TargetError("not a block device (lsblk does not know it)", req.target, { cause: e, hint: "name a disk such as /dev/sda" });
    });
    plan = preflight(disk, { mode: req.mode, imageBytes: image.sizeBytes });
    if (req.mode === "upgrade") await checkExistingLayout(req.target, plan, env.run);
  }
  const size = plan.diskBytes;
  const path = req.mode === "image" ? `${req.target}.work` : req.target;
  if (req.mode === "image") {
    await fs.rm(path, { force: true });
    await run("truncate", ["-s", String(size), path]);
  }
  const target = makeTarget(req.mode === "image" ? "image" : "device", path, plan);
  const ctx = {
    mode: req.mode,
    target,
    image,
    cmdline: req.cmdline ?? "console=tty0 console=ttyS0,115200",
    configFiles: req.configFiles ?? {},
    data: req.data ?? "xfs",
    log,
  };
  const phases: InstallReport["phases"] = [];
  try {
    for (const phase of phasesFor(req.mode)) {
      log({ type: "phase-start", phase: phase.name });
      const p0 = performance.now();
      const detail = await phase.run(ctx);
      const ms = performance.now() - p0;
      phases.push({ name: phase.name, ms, ...(detail ? { detail } : {}) });
      log({ type: "phase-done", phase: phase.name, ms, ...(detail ? { detail } : {}) });
    }
    if (req.mode === "image") {
      await run("sgdisk", ["--verify", path]);
      await fs.rename(path, req.target);
    } else {
      await run("sync", []);
    }
  } catch (e) {
    if (req.mode === "image") await fs.rm(path, { force: true });
    throw e;
  }
  return { version: image.version, phases, totalMs: performance.now() - t0 };
}
