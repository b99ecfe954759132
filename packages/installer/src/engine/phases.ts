/**
 * @module engine/phases
 * The install engine as a named list of phases (Talos's sequencer style). One engine
 * serves every mode:
 *  - `image`:   build a raw disk image file (`make disk`);
 *  - `install`: erase a disk and install (the ISO installer);
 *  - `upgrade`: reinstall the boot files and slot A, keeping /quantix and /data.
 */
import { createReadStream, promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  bootEnvToGrubEnv,
  DEFAULT_BOOT_SETTINGS,
  diskGrubCfg,
  ESP_PATHS,
  encodeGrubEnv,
  IMAGE_BOOT_DIR,
  initialState,
  MiB,
  patchBiosBoot,
  partition,
  run,
  SECTOR,
  sgdiskArgs,
  type SystemImage,
  writeSlot,
} from "@quantix/core";
import { type InstallTarget, rereadPartitions, TargetError } from "./target.ts";

export type InstallMode = "image" | "install" | "upgrade";
export type DataFormat = "xfs" | "lvm";

/** The volume group made on the data partition with the LVM option. */
export const DATA_VOLUME_GROUP = "qx_data";

export interface InstallContext {
  readonly mode: InstallMode;
  readonly target: InstallTarget;
  readonly image: SystemImage;
  /** Extra kernel options stored in the GRUB environment. */
  readonly cmdline: string;
  /** Files to place on the fresh config partition (path relative to /quantix → content). */
  readonly configFiles: Readonly<Record<string, string | Buffer>>;
  /** What the data partition holds: an XFS filesystem (default) or an LVM volume group for a storage pool. */
  readonly data: DataFormat;
  readonly log: (event: InstallEvent) => void;
}

export type InstallEvent =
  | { type: "phase-start"; phase: string }
  | { type: "phase-done"; phase: string; ms: number; detail?: string }
  | { type: "progress"; phase: string; done: number; total: number };

export interface Phase {
  readonly name: string;
  readonly run: (ctx: InstallContext) => Promise<string | undefined>;
}

const MTOOLS_ENV = { MTOOLS_SKIP_CHECK: "1" };

async function withTempDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(join(tmpdir(), "qx-install-"));
  try {
    return await f(dir);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export const partitionDisk: Phase = {
  name: "partition",
  async run({ target }) {
    await run("sgdisk", [...sgdiskArgs(target.plan), target.path]);
    if (target.kind === "device") await rereadPartitions(target.path);
    return `${target.plan.partitions.length} partitions`;
  },
};

export const installBiosBoot: Phase = {
  name: "bios-boot",
  async run({ target, image }) {
    const bios = target.part("bios");
    const [bootImg, coreImg] = await Promise.all([image.readFile(`${IMAGE_BOOT_DIR}/boot.img`), image.readFile(`${IMAGE_BOOT_DIR}/core.img`)]);
    const fh = await fs.open(target.path, "r+");
    try {
      const mbr = Buffer.alloc(SECTOR);
      await fh.read(mbr, 0, SECTOR, 0);
      const patched = patchBiosBoot(bootImg, coreImg, mbr, bios.startSector, bios.endSector - bios.startSector + 1);
      await fh.write(patched.core, 0, patched.core.length, bios.startSector * SECTOR);
      await fh.write(patched.mbr, 0, SECTOR, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // Closing a disk opened for writing makes udev re-read its partition table: let it finish.
    if (target.kind === "device") await rereadPartitions(target.path);
    return `core.img ${coreImg.length} bytes at sector ${bios.startSector}`;
  },
};

export const formatEsp: Phase = {
  name: "esp",
  async run({ target, image, cmdline }) {
    const r = await target.region("efi");
    const label = partition("efi").label ?? "QX_EFI";
    const args = ["-F", "32", "-s", "1", "-S", String(SECTOR), "-n", label];
    if (r.offset) args.push(`--offset=${r.offset / SECTOR}`);
    await run("mkfs.vfat", [...args, r.path, String(r.size / 1024)]);
    const img = await target.mtoolsImage();
    return withTempDir(async (dir) => {
      const efi = join(dir, "BOOTX64.EFI");
      await fs.writeFile(efi, await image.readFile(`${IMAGE_BOOT_DIR}/BOOTX64.EFI`));
      const cfg = join(dir, "grub.cfg");
      await fs.writeFile(cfg, diskGrubCfg());
      const env = join(dir, "grubenv");
      await fs.writeFile(
        env,
        encodeGrubEnv(bootEnvToGrubEnv({ state: initialState(image.version), settings: { ...DEFAULT_BOOT_SETTINGS, cmdline } })),
      );
      const dirs = ["/EFI", "/EFI/BOOT", ESP_PATHS.grubDir];
      await run("mmd", ["-i", img, ...dirs.map((d) => `::${d}`)], { env: MTOOLS_ENV });
      await run("mcopy", ["-i", img, efi, `::${ESP_PATHS.efiBinary}`], { env: MTOOLS_ENV });
      await run("mcopy", ["-i", img, cfg, `::${ESP_PATHS.grubCfg}`], { env: MTOOLS_ENV });
      await run("mcopy", ["-i", img, env, `::${ESP_PATHS.grubEnv}`], { env: MTOOLS_ENV });
      await run("mcopy", ["-i", img, env, `::${ESP_PATHS.grubEnvBackup}`], { env: MTOOLS_ENV });
      return `FAT32 ${label}, GRUB + environment for ${image.version}`;
    });
  },
};

export const writeSlotA: Phase = {
  name: "slot-a",
  async run(ctx) {
    const r = await ctx.target.region("system-a");
    const res = await writeSlot(createReadStream(ctx.image.path), r, {
      onProgress: (phase, done) => ctx.log({ type: "progress", phase: `slot-a ${phase}`, done, total: ctx.image.sizeBytes }),
    });
    return `${(res.bytes / MiB).toFixed(1)} MiB, write ${(res.writeMs / 1000).toFixed(1)}s, verify ${(res.verifyMs / 1000).toFixed(1)}s, sha256 ${res.sha256.slice(0, 16)}…`;
  },
};

export const clearSlotB: Phase = {
  name: "slot-b",
  async run({ target }) {
    const r = await target.region("system-b");
    const fh = await fs.open(r.path, "r+");
    try {
      await fh.write(Buffer.alloc(MiB), 0, MiB, r.offset);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return "empty";
  },
};

export const formatConfig: Phase = {
  name: "config",
  async run({ target, configFiles }) {
    const r = await target.region("config");
    const label = partition("config").label ?? "QX_CONFIG";
    return withTempDir(async (staging) => {
      for (const [rel, content] of Object.entries(configFiles)) {
        const p = join(staging, rel);
        await fs.mkdir(join(p, ".."), { recursive: true });
        await fs.writeFile(p, content, { mode: 0o600 });
      }
      const ext = ["-q", "-F", "-t", "ext4", "-L", label, "-d", staging];
      if (r.offset) ext.push("-E", `offset=${r.offset}`);
      await run("mke2fs", [...ext, r.path, `${r.size / 1024}k`]);
      return `ext4 ${label}, ${Object.keys(configFiles).length} file(s)`;
    });
  },
};

export const formatData: Phase = {
  name: "data",
  async run({ target, data }) {
    const r = await target.region("data");
    const label = partition("data").label ?? "QX_DATA";
    if (data === "lvm") {
      if (r.offset) throw new TargetError("the LVM option needs a block device, not a disk image file", target.path);
      await run("pvcreate", ["--quiet", "-ff", "--yes", r.path]);
      await run("vgcreate", ["--quiet", DATA_VOLUME_GROUP, r.path]);
      // Leave the group inactive: the installed system activates it; the installer holds nothing open.
      await run("vgchange", ["--quiet", "-an", DATA_VOLUME_GROUP], { allowFailure: true });
      return `LVM volume group ${DATA_VOLUME_GROUP} on ${r.path}, ${(r.size / MiB).toFixed(0)} MiB`;
    }
    if (!r.offset) {
      await run("mkfs.xfs", ["-q", "-f", "-L", label, r.path]);
      return `XFS ${label}`;
    }
    // mkfs.xfs cannot write at an offset: make the filesystem in a sparse file and copy
    // its non-zero blocks into place.
    return withTempDir(async (dir) => {
      const tmp = join(dir, "data.xfs");
      await run("truncate", ["-s", String(r.size), tmp]);
      await run("mkfs.xfs", ["-q", "-f", "-L", label, tmp]);
      await run("dd", [`if=${tmp}`, `of=${r.path}`, "bs=1M", `seek=${r.offset}`, "oflag=seek_bytes", "conv=notrunc,sparse", "status=none"]);
      return `XFS ${label}, ${(r.size / MiB).toFixed(0)} MiB`;
    });
  },
};

/** The phases of each mode, in order. */
export function phasesFor(mode: InstallMode): Phase[] {
  const base = [partitionDisk, installBiosBoot, formatEsp, writeSlotA, clearSlotB];
  switch (mode) {
    case "image":
    case "install":
      return [...base, formatConfig, formatData];
    case "upgrade":
      return [installBiosBoot, formatEsp, writeSlotA, clearSlotB];
  }
}
