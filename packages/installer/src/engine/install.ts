/**
 * @module engine/install
 * Runs the install engine: checks the target, then each phase of the mode in order,
 * reporting every phase with its duration.
 *
 * @example
 * ```ts
 * await install({ mode: "image", target: "out.img", imagePath: "system.squashfs", sizeBytes: 2 * GiB });
 * ```
 */
import { promises as fs } from "node:fs";
import { MIN_DISK_BYTES, openSystemImage, planDisk, run } from "@quantix/core";
import { type InstallEvent, type InstallMode, phasesFor } from "./phases.ts";
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
  readonly log?: (e: InstallEvent) => void;
}

export interface InstallReport {
  readonly version: string;
  readonly phases: { name: string; ms: number; detail?: string }[];
  readonly totalMs: number;
}

async function deviceSize(dev: string): Promise<number> {
  const { stdout } = await run("blockdev", ["--getsize64", dev]);
  return Number(stdout.trim());
}

/** Runs an install. In image mode the image is built as `<target>.work` and renamed on success. */
export async function install(req: InstallRequest): Promise<InstallReport> {
  const t0 = performance.now();
  const log = req.log ?? (() => undefined);
  const image = await openSystemImage(req.imagePath);
  const size =
    req.mode === "image"
      ? (req.sizeBytes ?? Math.ceil(MIN_DISK_BYTES / 2 ** 30) * 2 ** 30)
      : await deviceSize(req.target).catch((e) => {
          throw new TargetError("not a block device", req.target, { cause: e });
        });
  const plan = planDisk(size);
  const slot = plan.partitions.find((p) => p.role === "system-a");
  if (slot && image.sizeBytes > slot.sizeBytes) {
    throw new TargetError(`system image (${image.sizeBytes} bytes) is larger than the slot (${slot.sizeBytes})`, req.imagePath);
  }
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
    }
  } catch (e) {
    if (req.mode === "image") await fs.rm(path, { force: true });
    throw e;
  }
  return { version: image.version, phases, totalMs: performance.now() - t0 };
}
