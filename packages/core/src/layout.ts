/**
 * @module layout
 * The Quantix-OS disk layout, defined once. The image builder, the installer and
 * the updater all read it; nothing else repeats a size, name, label or type.
 *
 * @example
 * ```ts
 * import { LAYOUT, planDisk } from "@quantix/core/layout";
 * const plan = planDisk(8 * GiB);
 * plan.partitions.find(p => p.role === "data")!.sizeBytes;
 * ```
 */
import { LayoutError } from "./errors.ts";

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const SECTOR = 512;

export type PartitionRole = "efi" | "system-a" | "system-b" | "config" | "data" | "bios";
export type Filesystem = "vfat" | "squashfs" | "ext4" | "xfs" | "none";

export interface PartitionSpec {
  /** GPT partition number. */
  readonly number: number;
  readonly role: PartitionRole;
  /** GPT partition name (what the initramfs looks for in sysfs `PARTNAME`). */
  readonly gptName: string;
  /** Filesystem label, where the filesystem has one. */
  readonly label: string | null;
  readonly filesystem: Filesystem;
  /** GPT type GUID. */
  readonly typeGuid: string;
  /** sgdisk short type code. */
  readonly typeCode: string;
  /** Size in bytes; `null` = the rest of the disk. */
  readonly sizeBytes: number | null;
  /** Where the running system mounts it, if anywhere. */
  readonly mountpoint: string | null;
  readonly description: string;
}

const TYPE_ESP = { typeGuid: "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", typeCode: "ef00" } as const;
const TYPE_LINUX = { typeGuid: "0FC63DAF-8483-4772-8E79-3D69D8477DE4", typeCode: "8300" } as const;
const TYPE_BIOS = { typeGuid: "21686148-6449-6E6F-744E-656564454649", typeCode: "ef02" } as const;

/** Partitions in on-disk order (the BIOS boot partition lives in the alignment gap). */
export const PARTITIONS: readonly PartitionSpec[] = [
  {
    number: 6,
    role: "bios",
    gptName: "QX_BIOS",
    label: null,
    filesystem: "none",
    ...TYPE_BIOS,
    sizeBytes: null, // fixed: sectors 34..2047, see BIOS_BOOT
    mountpoint: null,
    description: "GRUB core.img for legacy BIOS boot",
  },
  {
    number: 1,
    role: "efi",
    gptName: "QX_EFI",
    label: "QX_EFI",
    filesystem: "vfat",
    ...TYPE_ESP,
    sizeBytes: 100 * MiB,
    mountpoint: null,
    description: "EFI system partition: GRUB, grub.cfg, GRUB environment (two copies)",
  },
  {
    number: 2,
    role: "system-a",
    gptName: "QX_SYSTEM_A",
    label: null,
    filesystem: "squashfs",
    ...TYPE_LINUX,
    sizeBytes: 300 * MiB,
    mountpoint: null,
    description: "System slot A: the raw system squashfs (kernel, initramfs, root)",
  },
  {
    number: 3,
    role: "system-b",
    gptName: "QX_SYSTEM_B",
    label: null,
    filesystem: "squashfs",
    ...TYPE_LINUX,
    sizeBytes: 300 * MiB,
    mountpoint: null,
    description: "System slot B: the raw system squashfs, or empty until the first update",
  },
  {
    number: 4,
    role: "config",
    gptName: "QX_CONFIG",
    label: "QX_CONFIG",
    filesystem: "ext4",
    ...TYPE_LINUX,
    sizeBytes: 100 * MiB,
    mountpoint: "/quantix",
    description: "Persistent configuration (/quantix)",
  },
  {
    number: 5,
    role: "data",
    gptName: "QX_DATA",
    label: "QX_DATA",
    filesystem: "xfs",
    ...TYPE_LINUX,
    sizeBytes: null,
    mountpoint: "/data",
    description: "VM storage (/data), the rest of the disk",
  },
];

/** The BIOS boot partition occupies the gap between the GPT and the first aligned partition. */
export const BIOS_BOOT = { firstSector: 34, lastSector: 2047 } as const;
/** Partitions start on 1 MiB boundaries. */
export const ALIGNMENT_BYTES = MiB;
/** The data partition must have at least this much room. */
export const MIN_DATA_BYTES = 1 * GiB;
/** The backup GPT at the end of the disk: 33 sectors; keep 1 MiB free there. */
export const TAIL_RESERVED_BYTES = MiB;

/** Size of the GRUB environment block, in bytes (grub-editenv's format). */
export const GRUBENV_SIZE = 1024;
/** Where GRUB and its environment live on the ESP. */
export const ESP_PATHS = {
  efiBinary: "/EFI/BOOT/BOOTX64.EFI",
  grubDir: "/grub",
  grubCfg: "/grub/grub.cfg",
  grubEnv: "/grub/grubenv",
  grubEnvBackup: "/grub/grubenv.bak",
} as const;
/** Where the kernel and initramfs live inside a system image. */
export const IMAGE_PATHS = {
  kernel: "/boot/vmlinuz",
  initramfs: "/boot/initramfs",
  release: "/etc/quantix/release",
  trustedKeys: "/etc/quantix/keys",
} as const;

/** The installer ISO: volume label (the initramfs finds the medium by it) and where the system image sits on it. */
export const ISO_MEDIA = {
  label: "QX_INSTALL",
  squashfsPath: "/quantix/system.squashfs",
} as const;

export function partition(role: PartitionRole): PartitionSpec {
  const p = PARTITIONS.find((x) => x.role === role);
  if (!p) throw new LayoutError(`no partition with role ${role}`);
  return p;
}

/** Size of everything but the data partition: gap + EFI + A + B + Config + tail. */
const fixedBytes = PARTITIONS.reduce((sum, p) => sum + (p.sizeBytes ?? 0), ALIGNMENT_BYTES) + TAIL_RESERVED_BYTES;

/** The smallest disk Quantix-OS installs on. */
export const MIN_DISK_BYTES = fixedBytes + MIN_DATA_BYTES;

export interface PlannedPartition extends PartitionSpec {
  readonly startSector: number;
  readonly endSector: number; // inclusive
  readonly offsetBytes: number;
  readonly sizeBytes: number;
}

export interface DiskPlan {
  readonly diskBytes: number;
  readonly partitions: readonly PlannedPartition[];
}

/**
 * Places every partition on a disk of `diskBytes`: offsets, sizes and sectors.
 * Throws LayoutError when the disk is smaller than {@link MIN_DISK_BYTES}.
 */
export function planDisk(diskBytes: number): DiskPlan {
  if (!Number.isSafeInteger(diskBytes) || diskBytes <= 0) {
    throw new LayoutError(`disk size must be a positive number of bytes, got ${diskBytes}`);
  }
  if (diskBytes < MIN_DISK_BYTES) {
    throw new LayoutError(
      `disk is ${formatBytes(diskBytes)}, smaller than the ${formatBytes(MIN_DISK_BYTES)} Quantix-OS needs`,
      { hint: "choose a larger disk" },
    );
  }
  const lastUsable = Math.floor((diskBytes - TAIL_RESERVED_BYTES) / ALIGNMENT_BYTES) * ALIGNMENT_BYTES;
  let offset = ALIGNMENT_BYTES;
  const planned: PlannedPartition[] = [];
  for (const p of PARTITIONS) {
    if (p.role === "bios") {
      planned.push({
        ...p,
        startSector: BIOS_BOOT.firstSector,
        endSector: BIOS_BOOT.lastSector,
        offsetBytes: BIOS_BOOT.firstSector * SECTOR,
        sizeBytes: (BIOS_BOOT.lastSector - BIOS_BOOT.firstSector + 1) * SECTOR,
      });
      continue;
    }
    const size = p.sizeBytes ?? lastUsable - offset;
    planned.push({
      ...p,
      startSector: offset / SECTOR,
      endSector: (offset + size) / SECTOR - 1,
      offsetBytes: offset,
      sizeBytes: size,
    });
    offset += size;
  }
  return { diskBytes, partitions: planned };
}

/** Human-readable size, in MiB or GiB. */
export function formatBytes(n: number): string {
  if (n < MiB) return `${n} bytes`;
  if (n >= GiB) return `${(n / GiB).toFixed(n % GiB === 0 ? 0 : 2)} GiB`;
  return `${(n / MiB).toFixed(n % MiB === 0 ? 0 : 1)} MiB`;
}

/** sgdisk arguments that create the planned GPT on a disk or image file. */
export function sgdiskArgs(plan: DiskPlan): string[] {
  const args = ["--zap-all", "--clear", "--set-alignment=1"];
  for (const p of [...plan.partitions].sort((a, b) => a.number - b.number)) {
    args.push(
      `--new=${p.number}:${p.startSector}:${p.endSector}`,
      `--typecode=${p.number}:${p.typeCode}`,
      `--change-name=${p.number}:${p.gptName}`,
    );
  }
  return args;
}

/** The layout as shell variable assignments (QX_PART_<ROLE>_<FIELD>=value), for the builder. */
export function layoutShell(plan?: DiskPlan): string {
  const lines: string[] = [
    "# Generated from packages/core/src/layout.ts: do not edit, do not repeat these numbers.",
    `QX_MIB=${MiB}`,
    `QX_MIN_DISK_BYTES=${MIN_DISK_BYTES}`,
    `QX_MIN_DATA_BYTES=${MIN_DATA_BYTES}`,
    `QX_GRUBENV_SIZE=${GRUBENV_SIZE}`,
  ];
  for (const [k, v] of Object.entries(ESP_PATHS)) lines.push(`QX_ESP_${snake(k)}=${shq(v)}`);
  for (const [k, v] of Object.entries(IMAGE_PATHS)) lines.push(`QX_IMAGE_${snake(k)}=${shq(v)}`);
  for (const [k, v] of Object.entries(ISO_MEDIA)) lines.push(`QX_ISO_${snake(k)}=${shq(v)}`);
  const parts = plan?.partitions ?? PARTITIONS;
  for (const p of parts) {
    const r = p.role.replace("-", "_").toUpperCase();
    lines.push(
      `QX_PART_${r}_NUMBER=${p.number}`,
      `QX_PART_${r}_NAME=${shq(p.gptName)}`,
      `QX_PART_${r}_LABEL=${shq(p.label ?? "")}`,
      `QX_PART_${r}_FS=${shq(p.filesystem)}`,
      `QX_PART_${r}_TYPE=${shq(p.typeCode)}`,
      `QX_PART_${r}_SIZE_BYTES=${p.sizeBytes ?? ""}`,
    );
    if ("offsetBytes" in p) {
      const pp = p as PlannedPartition;
      lines.push(`QX_PART_${r}_OFFSET_BYTES=${pp.offsetBytes}`, `QX_PART_${r}_START_SECTOR=${pp.startSector}`, `QX_PART_${r}_END_SECTOR=${pp.endSector}`);
    }
  }
  if (plan) {
    lines.push(`QX_DISK_BYTES=${plan.diskBytes}`, `QX_SGDISK_ARGS=${shq(sgdiskArgs(plan).join(" "))}`);
  }
  return `${lines.join("\n")}\n`;
}

function snake(s: string): string {
  return s.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/** Single-quotes a value for POSIX sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
