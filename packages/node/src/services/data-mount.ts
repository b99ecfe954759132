/**
 * @module services/data-mount
 * Mounts the VM data partition on `/data` (OpenRC service `quantix-data`). The
 * partition is found by its GPT name in sysfs (`PARTNAME` in
 * `/sys/class/block/* /uevent`, as the initramfs does; the name comes from core's
 * layout). XFS is mounted; a partition with no filesystem whose first MiB is all
 * zeros (a fresh install) is formatted first; anything else is refused and left
 * alone, so bad input never loses data.
 *
 * @example
 * ```ts
 * const r = await mountData(defaultDataEnv());
 * if (r.state !== "mounted") console.error(r.reason);
 * ```
 */
import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import { ExecError, partition, type RunOptions, type RunResult, run as coreRun, writeFileAtomic } from "@quantix/core";

const DATA = partition("data");
/** Directories qx-node's storage expects on /data. */
export const DATA_DIRS = ["images", "isos"] as const;
/** How much of the partition must be zero before it may be formatted. */
export const ZERO_CHECK_BYTES = 1024 * 1024;

export type Runner = (command: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

export interface DataEnv {
  /** sysfs root ("/sys"). */
  readonly sysRoot: string;
  /** Where device nodes are ("/dev"). */
  readonly devRoot: string;
  /** The mount point ("/data"). */
  readonly mountpoint: string;
  /** The mount table to consult ("/proc/self/mountinfo"). */
  readonly mountinfo: string;
  /** Where the outcome is recorded for health checks ("/run/quantix/data-mount.json"). */
  readonly statusFile: string;
  readonly run: Runner;
  readonly log: (line: string) => void;
}

export function defaultDataEnv(over: Partial<DataEnv> = {}): DataEnv {
  return {
    sysRoot: "/sys",
    devRoot: "/dev",
    mountpoint: DATA.mountpoint ?? "/data",
    mountinfo: "/proc/self/mountinfo",
    statusFile: "/run/quantix/data-mount.json",
    run: coreRun,
    log: (l) => process.stderr.write(`qx-datamount: ${l}\n`),
    ...over,
  };
}

/** Parses a uevent file (`KEY=value` lines). */
export function parseUevent(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Device paths of the block devices whose GPT name is `gptName`, in sysfs order. */
export async function findPartitionsByName(gptName: string, env: Pick<DataEnv, "sysRoot" | "devRoot">): Promise<string[]> {
  const dir = join(env.sysRoot, "class/block");
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const found: string[] = [];
  for (const n of names.sort()) {
    const ue = parseUevent(await fs.readFile(join(dir, n, "uevent"), "utf8").catch(() => ""));
    if (ue.PARTNAME === gptName && ue.DEVNAME) found.push(join(env.devRoot, ue.DEVNAME));
  }
  return found;
}

/** The filesystem type blkid finds on `device` (low-level probe), or null when there is none. */
export async function probeFilesystem(device: string, runner: Runner): Promise<string | null> {
  const r = await runner("blkid", ["-p", "-o", "value", "-s", "TYPE", device], { allowFailure: true, timeoutMs: 30_000 });
  if (r.exitCode === 2) return null; // nothing identified
  if (r.exitCode !== 0) throw new ExecError("blkid", ["-p", "-o", "value", "-s", "TYPE", device], r.exitCode, r.signal, r.stdout, r.stderr, {
    hint: r.exitCode === 8 ? "several signatures found: inspect the partition by hand" : undefined,
  });
  return r.stdout.trim() || null;
}

/** True when the first `bytes` of `device` (or all of it, if smaller) are zero. */
export async function isZeroed(device: string, bytes = ZERO_CHECK_BYTES): Promise<boolean> {
  const h = await fs.open(device, "r");
  try {
    const buf = Buffer.alloc(bytes);
    let off = 0;
    while (off < bytes) {
      const { bytesRead } = await h.read(buf, off, bytes - off, off);
      if (bytesRead === 0) break;
      off += bytesRead;
    }
    return buf.subarray(0, off).every((b) => b === 0);
  } finally {
    await h.close();
  }
}

/** The source device of the filesystem mounted at `mountpoint`, per mountinfo; null when none. */
export function mountedSource(mountinfo: string, mountpoint: string): string | null {
  let source: string | null = null;
  for (const line of mountinfo.split("\n")) {
    const [pre, post] = line.split(" - ");
    const mp = pre?.split(" ")[4]?.replace(/\\040/g, " ");
    if (mp === mountpoint && post) source = post.split(" ")[1] ?? null; // the last one wins (stacked mounts)
  }
  return source;
}

export interface DataMountResult {
  readonly state: "mounted" | "already-mounted" | "refused" | "not-found" | "failed";
  readonly device: string | null;
  readonly formatted: boolean;
  readonly reason: string;
}

async function record(env: DataEnv, r: DataMountResult): Promise<DataMountResult> {
  try {
    await fs.mkdir(dirname(env.statusFile), { recursive: true });
    await writeFileAtomic(env.statusFile, `${JSON.stringify({ ...r, at: new Date().toISOString() }, null, 2)}\n`);
  } catch (e) {
    env.log(`cannot record status in ${env.statusFile}: ${(e as Error).message}`);
  }
  env.log(`${r.state}: ${r.reason}`);
  return r;
}

async function ensureDirs(env: DataEnv): Promise<void> {
  for (const d of DATA_DIRS) await fs.mkdir(join(env.mountpoint, d), { recursive: true, mode: 0o755 });
}

/** Finds, checks, formats when blank, and mounts the data partition; never throws for expected states. */
export async function mountData(env: DataEnv): Promise<DataMountResult> {
  const devices = await findPartitionsByName(DATA.gptName, env);
  const device = devices[0] ?? null;
  if (!device) {
    return record(env, { state: "not-found", device: null, formatted: false, reason: `no partition named ${DATA.gptName}; ${env.mountpoint} stays unmounted` });
  }
  if (devices.length > 1) env.log(`${devices.length} partitions are named ${DATA.gptName} (${devices.join(", ")}); using ${device}`);

  const current = mountedSource(await fs.readFile(env.mountinfo, "utf8").catch(() => ""), env.mountpoint);
  if (current) {
    if (current !== device) {
      return record(env, { state: "refused", device, formatted: false, reason: `${env.mountpoint} already holds ${current}, not ${device}; left as it is` });
    }
    await ensureDirs(env);
    return record(env, { state: "already-mounted", device, formatted: false, reason: `${device} is already mounted on ${env.mountpoint}` });
  }

  let formatted = false;
  try {
    const fsType = await probeFilesystem(device, env.run);
    if (fsType === null || fsType === "") {
      if (!(await isZeroed(device))) {
        return record(env, {
          state: "refused",
          device,
          formatted: false,
          reason: `${device} holds no filesystem blkid knows, but its first MiB is not blank; not formatting it (inspect it, or wipe it with wipefs/dd to have it formatted)`,
        });
      }
      const label = DATA.label ?? DATA.gptName;
      env.log(`${device} is blank: creating XFS (label ${label})`);
      await env.run("mkfs.xfs", ["-q", "-L", label, device], { timeoutMs: 300_000 });
      formatted = true;
    } else if (fsType !== DATA.filesystem) {
      return record(env, {
        state: "refused",
        device,
        formatted: false,
        reason: `${device} holds ${fsType}, not ${DATA.filesystem}; not formatting it, ${env.mountpoint} stays unmounted (back it up and wipe it to reuse the partition)`,
      });
    }
    await fs.mkdir(env.mountpoint, { recursive: true });
    await env.run("mount", ["-t", DATA.filesystem, "-o", "noatime", device, env.mountpoint], { timeoutMs: 120_000 });
    await ensureDirs(env);
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return record(env, { state: "failed", device, formatted, reason });
  }
  return record(env, { state: "mounted", device, formatted, reason: `${device} (${DATA.filesystem}${formatted ? ", newly formatted" : ""}) mounted on ${env.mountpoint}` });
}

/** Unmounts /data (OpenRC stop); false when it was not mounted. */
export async function unmountData(env: DataEnv): Promise<boolean> {
  const current = mountedSource(await fs.readFile(env.mountinfo, "utf8").catch(() => ""), env.mountpoint);
  if (!current) return false;
  await env.run("umount", [env.mountpoint], { timeoutMs: 60_000 });
  return true;
}
