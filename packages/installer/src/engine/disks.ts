/**
 * @module engine/disks
 * The disks an install could go to, as the installer shows them: device, size, model,
 * whether they hold data, whether the running system booted from them, and what of
 * them is mounted or held (LVM, swap). One `lsblk --json` call; the boot medium comes
 * from the initramfs status file (`QX_SOURCE`: the slot partition or the ISO device).
 *
 * @example
 * ```ts
 * const disks = await listDisks();
 * disks.filter((d) => !d.isBootMedium && d.mounted.length === 0);
 * ```
 */
import { promises as fs } from "node:fs";
import { basename } from "node:path";
import { parseKeyValue, type RunOptions, type RunResult, run as coreRun } from "@quantix/core";

export interface DiskInfo {
  /** `/dev/vda` */
  readonly device: string;
  /** `vda` */
  readonly name: string;
  readonly sizeBytes: number;
  /** Model string, or "" when the disk reports none (virtio, loop). */
  readonly model: string;
  /** lsblk TYPE: `disk`, `loop`, `rom`, ... */
  readonly type: string;
  readonly readOnly: boolean;
  readonly removable: boolean;
  /** Partitions, filesystems or other signatures found on it. */
  readonly hasData: boolean;
  /** What lsblk found, for the listing: `gpt: QX_EFI, QX_SYSTEM_A, ...` or `xfs "backup"`. */
  readonly contents: string;
  /** True when the running system booted from this disk (its slot or the ISO). */
  readonly isBootMedium: boolean;
  /** Mount points of the disk and its partitions (swap shows as `[SWAP]`). */
  readonly mounted: readonly string[];
  /** Device-mapper/LVM devices built on it (sysfs holders). */
  readonly holders: readonly string[];
}

export type Runner = (command: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

export interface DiskEnv {
  readonly run: Runner;
  /** The initramfs status file naming the boot source. */
  readonly statusFile: string;
  /** sysfs block class ("/sys/class/block"), for holders. */
  readonly sysBlock: string;
}

export const defaultDiskEnv = (): DiskEnv => ({
  run: coreRun,
  statusFile: "/run/quantix/initramfs.status",
  sysBlock: "/sys/class/block",
});

interface LsblkDevice {
  name: string;
  path?: string;
  size: number | string;
  model?: string | null;
  type: string;
  fstype?: string | null;
  label?: string | null;
  partlabel?: string | null;
  pttype?: string | null;
  mountpoints?: (string | null)[];
  mountpoint?: string | null;
  ro?: boolean | string;
  rm?: boolean | string;
  children?: LsblkDevice[];
}

const LSBLK_COLUMNS = "NAME,PATH,SIZE,MODEL,TYPE,FSTYPE,LABEL,PARTLABEL,PTTYPE,MOUNTPOINTS,RO,RM";

const truthy = (v: boolean | string | undefined): boolean => v === true || v === "1";

function walk(d: LsblkDevice, f: (x: LsblkDevice) => void): void {
  f(d);
  for (const c of d.children ?? []) walk(c, f);
}

/** The kernel name of the disk the system booted from (`vda`, `sr0`), or null. */
export async function bootDiskName(env: Pick<DiskEnv, "statusFile" | "sysBlock">): Promise<string | null> {
  const text = await fs.readFile(env.statusFile, "utf8").catch(() => "");
  const source = parseKeyValue(text).QX_SOURCE ?? "";
  // "/dev/vda2" on a disk boot, "/dev/sr0:/quantix/system.squashfs" on a live boot.
  const dev = source.split(":")[0] ?? "";
  if (!dev.startsWith("/dev/")) return null;
  const name = basename(dev);
  // A partition's sysfs entry sits inside its disk's: /sys/class/block/vda2 -> .../vda/vda2.
  const real = await fs.realpath(`${env.sysBlock}/${name}`).catch(() => null);
  if (!real) return name;
  const isPart = await fs
    .access(`${real}/partition`)
    .then(() => true)
    .catch(() => false);
  return isPart ? basename(real.slice(0, real.lastIndexOf("/"))) : name;
}

async function holdersOf(env: DiskEnv, d: LsblkDevice): Promise<string[]> {
  const out: string[] = [];
  const names: string[] = [];
  walk(d, (x) => {
    if (x.type !== "disk" && x.type !== "loop" && x.type !== "part") return;
    names.push(x.name);
  });
  for (const n of names) {
    for (const h of await fs.readdir(`${env.sysBlock}/${n}/holders`).catch(() => [] as string[])) out.push(`${n} → ${h}`);
  }
  return out;
}

function describeContents(d: LsblkDevice): string {
  const parts = (d.children ?? []).filter((c) => c.type === "part");
  if (parts.length) {
    const names = parts.map((p) => p.partlabel || p.label || p.fstype || p.name).join(", ");
    return `${d.pttype ?? "partitioned"}: ${names}`;
  }
  if (d.fstype) return d.label ? `${d.fstype} "${d.label}"` : d.fstype;
  if (d.pttype) return `${d.pttype}, no partitions`;
  return "";
}

/**
 * Low-level probe (`blkid -p`): what is really on the device, not what a cache or the
 * udev database remembers (lsblk reads those, and a host without udev has neither).
 */
async function probe(env: DiskEnv, dev: string): Promise<Record<string, string>> {
  const r = await env.run("blkid", ["-p", "-o", "export", dev], { allowFailure: true, timeoutMs: 10_000 });
  return r.exitCode === 0 ? parseKeyValue(r.stdout) : {};
}

/** lsblk's view corrected by low-level probes of the disk and its partitions. */
async function probed(env: DiskEnv, d: LsblkDevice): Promise<LsblkDevice> {
  if (d.type === "rom") return d; // a CD: lsblk's view is enough, and probing an empty drive is slow
  const p = await probe(env, d.path ?? `/dev/${d.name}`);
  const children = await Promise.all(
    (d.children ?? []).map(async (c) => {
      if (c.type !== "part") return c;
      const q = await probe(env, c.path ?? `/dev/${c.name}`);
      return { ...c, fstype: q.TYPE ?? null, label: q.LABEL ?? null, partlabel: q.PART_ENTRY_NAME ?? c.partlabel ?? null };
    }),
  );
  return { ...d, pttype: p.PTTYPE ?? null, fstype: p.TYPE ?? null, label: p.LABEL ?? null, children };
}

/** Turns one lsblk top-level device into a DiskInfo. Exported for tests. */
export async function toDiskInfo(raw: LsblkDevice, bootName: string | null, env: DiskEnv): Promise<DiskInfo> {
  const d = await probed(env, raw);
  const mounted: string[] = [];
  walk(d, (x) => {
    for (const m of x.mountpoints ?? [x.mountpoint ?? null]) if (m) mounted.push(m);
  });
  const contents = describeContents(d);
  return {
    device: d.path ?? `/dev/${d.name}`,
    name: d.name,
    sizeBytes: Number(d.size),
    model: (d.model ?? "").trim(),
    type: d.type,
    readOnly: truthy(d.ro),
    removable: truthy(d.rm),
    hasData: contents !== "",
    contents,
    isBootMedium: bootName !== null && d.name === bootName,
    mounted,
    holders: await holdersOf(env, d),
  };
}

/** Every disk-like device (disks and loop devices, and the boot medium even when it is a CD). */
export async function listDisks(env: DiskEnv = defaultDiskEnv(), only?: string): Promise<DiskInfo[]> {
  const args = ["--json", "--bytes", "--output", LSBLK_COLUMNS];
  if (only) args.push(only);
  const { stdout } = await env.run("lsblk", args);
  const parsed = JSON.parse(stdout) as { blockdevices?: LsblkDevice[] };
  const bootName = await bootDiskName(env);
  const out: DiskInfo[] = [];
  for (const d of parsed.blockdevices ?? []) {
    if (!only && !["disk", "loop", "rom"].includes(d.type)) continue;
    if (!only && (/^(zram|ram)\d/.test(d.name) || Number(d.size) === 0)) continue;
    out.push(await toDiskInfo(d, bootName, env));
  }
  return out;
}

/** One disk by device path (throws ExecError from lsblk when it is not a block device). */
export async function diskInfo(device: string, env: DiskEnv = defaultDiskEnv()): Promise<DiskInfo> {
  const [d] = await listDisks(env, device);
  if (!d) throw new Error(`lsblk reported nothing for ${device}`);
  return d;
}
