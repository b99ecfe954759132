/**
 * @module services/metrics
 * The host's performance history, kept by qx-node in memory the way the ESXi Host
 * Client and Proxmox's RRD graphs keep theirs: one sample every 10 s for the last hour
 * (360 points) and one 5-minute average for the last 24 hours (288 points), each in a
 * fixed-size ring, so memory stays bounded (~100 KB) however long the node runs.
 *
 * A sample: CPU busy fraction (all CPUs, from `/proc/stat` deltas), memory used and
 * total (`MemTotal - MemAvailable`, as `free` counts it), `/data` used and total (null
 * while /data is not mounted) and the receive/transmit rate of the physical network
 * ports (bytes/s, from `/proc/net/dev`; bridges, taps and loopback are left out so
 * VM traffic switched inside the host is not counted twice).
 *
 * The 24-hour ring is optionally persisted (one JSON file on `/data`, written
 * atomically each time a 5-minute point closes and when the store stops), so the day's
 * history survives a qx-node restart or a reboot; a damaged file is ignored.
 *
 * @example
 * ```ts
 * const m = createMetrics({ root: "/", now: Date.now, persistFile: "/data/.cache/qx-metrics.json" });
 * await m.start();
 * m.query({ range: "1h" }); // { interval: 10, points: [...] }
 * ```
 */
import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "@quantix/core";
import { z } from "zod";
import type { DomainStats } from "../virt/hypervisor.ts";
import { findMount, parseMountinfo } from "./mountinfo.ts";

/** One point of host metrics; rates and the CPU figure are over the interval before `t`. */
export const MetricPoint = z.object({
  /** End of the interval, ms since the epoch. */
  t: z.number().int(),
  /** CPU busy fraction, 0..1, all CPUs together. */
  cpu: z.number().min(0).max(1),
  memUsedBytes: z.number().int().nonnegative(),
  memTotalBytes: z.number().int().nonnegative(),
  dataUsedBytes: z.number().int().nonnegative().nullable(),
  dataTotalBytes: z.number().int().nonnegative().nullable(),
  netRxBytesPerSec: z.number().nonnegative(),
  netTxBytesPerSec: z.number().nonnegative(),
});
export type MetricPoint = z.infer<typeof MetricPoint>;

/** One point of a VM's figures over the interval before `t` (libvirt's domstats). */
export const VmMetricPoint = z.object({
  t: z.number().int(),
  /** CPUs' worth of time used: 1.5 = one and a half host CPUs busy for this VM. */
  cpuCores: z.number().nonnegative(),
  memoryBytes: z.number().int().nonnegative(),
  memoryRssBytes: z.number().int().nonnegative().nullable(),
  diskReadBytesPerSec: z.number().nonnegative(),
  diskWriteBytesPerSec: z.number().nonnegative(),
  netRxBytesPerSec: z.number().nonnegative(),
  netTxBytesPerSec: z.number().nonnegative(),
});
export type VmMetricPoint = z.infer<typeof VmMetricPoint>;

/** A VM's point between two of its readings `dt` ms apart (null: it restarted, its counters went back). */
export function vmPointBetween(a: DomainStats, b: DomainStats, dtMs: number, t: number): VmMetricPoint | null {
  const dt = dtMs / 1000;
  if (dt <= 0 || b.cpuTimeNs < a.cpuTimeNs) return null;
  const rate = (x: number, y: number) => (y >= x ? (y - x) / dt : 0);
  return {
    t,
    cpuCores: (b.cpuTimeNs - a.cpuTimeNs) / 1e9 / dt,
    memoryBytes: b.memoryBytes,
    memoryRssBytes: b.memoryRssBytes,
    diskReadBytesPerSec: rate(a.diskReadBytes, b.diskReadBytes),
    diskWriteBytesPerSec: rate(a.diskWriteBytes, b.diskWriteBytes),
    netRxBytesPerSec: rate(a.netRxBytes, b.netRxBytes),
    netTxBytesPerSec: rate(a.netTxBytes, b.netTxBytes),
  };
}

export const METRIC_RANGES = {
  /** Every 10 s sample of the last hour. */
  "1h": { intervalS: 10, capacity: 360 },
  /** 5-minute averages of the last 24 hours. */
  "24h": { intervalS: 300, capacity: 288 },
} as const;
export type MetricRange = keyof typeof METRIC_RANGES;

/** Raw counters read at one instant. */
export interface Counters {
  readonly t: number;
  /** Jiffies: busy and total over all CPUs. */
  readonly cpuBusy: number;
  readonly cpuTotal: number;
  readonly memUsedBytes: number;
  readonly memTotalBytes: number;
  readonly dataUsedBytes: number | null;
  readonly dataTotalBytes: number | null;
  readonly rxBytes: number;
  readonly txBytes: number;
}

/** A fixed-size ring; `toArray` is oldest first. */
export class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;
  constructor(readonly capacity: number) {}
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }
  toArray(): T[] {
    return this.items.length < this.capacity ? [...this.items] : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
  get size(): number {
    return this.items.length;
  }
}

/** `/proc/stat`'s aggregate `cpu` line: busy and total jiffies (idle and iowait are not busy). */
export function parseProcStat(text: string): { busy: number; total: number } {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (!line) throw new Error("/proc/stat has no aggregate cpu line");
  // user nice system idle iowait irq softirq steal (guest and guest_nice are inside user/nice)
  const v = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((s, x) => s + (Number.isFinite(x) ? x : 0), 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

/** `/proc/meminfo`: used (`MemTotal - MemAvailable`) and total, in bytes. */
export function parseMeminfo(text: string): { used: number; total: number } {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  const total = kb("MemTotal");
  if (total === null) throw new Error("/proc/meminfo has no MemTotal");
  const available = kb("MemAvailable") ?? kb("MemFree") ?? 0;
  return { used: Math.max(0, total - available), total };
}

/** `/proc/net/dev`: received and sent bytes summed over the interfaces `include` accepts. */
export function parseNetDev(text: string, include: (name: string) => boolean): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  for (const line of text.split("\n").slice(2)) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    if (!include(name)) continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

/** The point between two readings (null when they cannot be compared: a counter reset, no time passed). */
export function pointBetween(a: Counters, b: Counters): MetricPoint | null {
  const dt = (b.t - a.t) / 1000;
  const dTotal = b.cpuTotal - a.cpuTotal;
  if (dt <= 0 || dTotal <= 0) return null;
  const rate = (x: number, y: number) => (y >= x ? (y - x) / dt : 0);
  return {
    t: b.t,
    cpu: Math.min(1, Math.max(0, (b.cpuBusy - a.cpuBusy) / dTotal)),
    memUsedBytes: b.memUsedBytes,
    memTotalBytes: b.memTotalBytes,
    dataUsedBytes: b.dataUsedBytes,
    dataTotalBytes: b.dataTotalBytes,
    netRxBytesPerSec: rate(a.rxBytes, b.rxBytes),
    netTxBytesPerSec: rate(a.txBytes, b.txBytes),
  };
}

/** The average of the points of one bucket, stamped with the bucket's end. */
export function averagePoints(points: readonly MetricPoint[], t: number): MetricPoint {
  const avg = (f: (p: MetricPoint) => number) => points.reduce((s, p) => s + f(p), 0) / points.length;
  const avgNullable = (f: (p: MetricPoint) => number | null) => {
    const known = points.map(f).filter((x): x is number => x !== null);
    return known.length ? Math.round(known.reduce((s, x) => s + x, 0) / known.length) : null;
  };
  return {
    t,
    cpu: avg((p) => p.cpu),
    memUsedBytes: Math.round(avg((p) => p.memUsedBytes)),
    memTotalBytes: Math.round(avg((p) => p.memTotalBytes)),
    dataUsedBytes: avgNullable((p) => p.dataUsedBytes),
    dataTotalBytes: avgNullable((p) => p.dataTotalBytes),
    netRxBytesPerSec: avg((p) => p.netRxBytesPerSec),
    netTxBytesPerSec: avg((p) => p.netTxBytesPerSec),
  };
}

/** Whether `/data` is a mount point under `root` (not the RAM root's empty directory). */
export async function dataMounted(root: string): Promise<boolean> {
  const text = await fs.readFile(join(root, "proc/self/mountinfo"), "utf8").catch(() => "");
  return findMount(parseMountinfo(text), "/data") !== undefined;
}

/** Reads the counters of the host under `root` (a test passes a fake /proc and /sys). */
export async function readCounters(root: string, now: () => number): Promise<Counters> {
  const read = (p: string) => fs.readFile(join(root, p), "utf8");
  const [stat, meminfo, netdev, mountinfo] = await Promise.all([
    read("proc/stat"),
    read("proc/meminfo"),
    read("proc/net/dev").catch(() => ""),
    read("proc/self/mountinfo").catch(() => ""),
  ]);
  const physical = new Set<string>();
  for (const n of await fs.readdir(join(root, "sys/class/net")).catch(() => [] as string[])) {
    if (await fs.lstat(join(root, "sys/class/net", n, "device")).then(() => true, () => false)) physical.add(n);
  }
  let dataUsedBytes: number | null = null;
  let dataTotalBytes: number | null = null;
  if (findMount(parseMountinfo(mountinfo), "/data") !== undefined) {
    const s = await fs.statfs(join(root, "data")).catch(() => null);
    if (s) {
      dataTotalBytes = s.blocks * s.bsize;
      dataUsedBytes = (s.blocks - s.bfree) * s.bsize;
    }
  }
  const cpu = parseProcStat(stat);
  const mem = parseMeminfo(meminfo);
  const net = parseNetDev(netdev, (n) => physical.has(n));
  return { t: now(), cpuBusy: cpu.busy, cpuTotal: cpu.total, memUsedBytes: mem.used, memTotalBytes: mem.total, dataUsedBytes, dataTotalBytes, rxBytes: net.rx, txBytes: net.tx };
}

const Persisted = z.object({ version: z.literal(1), points: z.array(MetricPoint) });

export interface MetricsOptions {
  readonly root: string;
  readonly now: () => number;
  /** Where the 24-hour ring is kept across restarts (none: memory only). */
  readonly persistFile?: string;
  /** Checked before each write of `persistFile` (the node: /data is mounted, not the RAM root under it). */
  readonly persistIf?: () => Promise<boolean>;
  /** Sample interval in ms (default 10 s; tests shorten it). */
  readonly sampleMs?: number;
  readonly read?: () => Promise<Counters>;
  /** The running VMs' counters (the node: libvirt's domstats); none: no VM history. */
  readonly vmStats?: () => Promise<DomainStats[]>;
  readonly log?: (message: string) => void;
}

export interface MetricsQuery {
  readonly range: MetricRange;
  /** Only points after this instant (ms since the epoch). */
  readonly since?: number;
}

export interface Metrics {
  /** Loads the persisted history and starts sampling. */
  start(): Promise<void>;
  /** Takes one sample now (the timer does this every interval). */
  sample(): Promise<void>;
  query(q: MetricsQuery): { range: MetricRange; intervalSeconds: number; points: MetricPoint[] };
  /** A VM's last hour at the sample interval (empty: not running, or just started). */
  vm(name: string, since?: number): { intervalSeconds: number; points: VmMetricPoint[] };
  /** Stops sampling and writes the history out. */
  stop(): Promise<void>;
}

export function createMetrics(o: MetricsOptions): Metrics {
  const read = o.read ?? (() => readCounters(o.root, o.now));
  const bucketMs = METRIC_RANGES["24h"].intervalS * 1000;
  const fine = new Ring<MetricPoint>(METRIC_RANGES["1h"].capacity);
  const coarse = new Ring<MetricPoint>(METRIC_RANGES["24h"].capacity);
  let last: Counters | null = null;
  let bucket: MetricPoint[] = [];
  let bucketEnd = 0;
  let timer: NodeJS.Timeout | null = null;
  /** Per VM: its last reading and its hour of points; dropped an hour after it was last seen. */
  const vms = new Map<string, { last: DomainStats; lastT: number; ring: Ring<VmMetricPoint> }>();
  let vmError: string | null = null;
  let sampling: Promise<void> = Promise.resolve();
  let writing: Promise<void> = Promise.resolve();

  const persist = () => {
    if (!o.persistFile) return Promise.resolve();
    const file = o.persistFile;
    writing = writing
      .then(async () => {
        if (o.persistIf && !(await o.persistIf())) return;
        await fs.mkdir(dirname(file), { recursive: true });
        await writeFileAtomic(file, JSON.stringify({ version: 1, points: coarse.toArray() }));
      })
      .catch((e) => o.log?.(`metrics history not saved to ${file}: ${e instanceof Error ? e.message : String(e)}`));
    return writing;
  };

  const closeBucket = () => {
    if (bucket.length) coarse.push(averagePoints(bucket, bucketEnd));
    bucket = [];
  };

  const add = (p: MetricPoint) => {
    fine.push(p);
    const end = Math.ceil(p.t / bucketMs) * bucketMs;
    if (bucketEnd && end !== bucketEnd) {
      closeBucket();
      void persist();
    }
    bucketEnd = end;
    bucket.push(p);
  };

  const sampleOnce = async () => {
    let c: Counters;
    try {
      c = await read();
    } catch (e) {
      o.log?.(`metrics sample failed: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    const p = last ? pointBetween(last, c) : null;
    last = c;
    if (p) add(p);
    if (o.vmStats) await sampleVms(c.t, o.vmStats);
  };

  const sampleVms = async (t: number, read: () => Promise<DomainStats[]>) => {
    let stats: DomainStats[];
    try {
      stats = await read();
      vmError = null;
    } catch (e) {
      // libvirtd down or slow: no VM points this round, said once until it answers again.
      const message = e instanceof Error ? e.message : String(e);
      if (vmError !== message) o.log?.(`VM metrics not sampled: ${message}`);
      vmError = message;
      return;
    }
    for (const s of stats) {
      const v = vms.get(s.name);
      if (!v) {
        vms.set(s.name, { last: s, lastT: t, ring: new Ring(METRIC_RANGES["1h"].capacity) });
        continue;
      }
      const p = vmPointBetween(v.last, s, t - v.lastT, t);
      if (p) v.ring.push(p);
      v.last = s;
      v.lastT = t;
    }
    const hour = METRIC_RANGES["1h"].capacity * METRIC_RANGES["1h"].intervalS * 1000;
    for (const [name, v] of vms) if (t - v.lastT > hour) vms.delete(name);
  };

  return {
    async start() {
      if (o.persistFile) {
        const text = await fs.readFile(o.persistFile, "utf8").catch(() => null);
        if (text !== null) {
          try {
            const cutoff = o.now() - METRIC_RANGES["24h"].capacity * bucketMs;
            for (const p of Persisted.parse(JSON.parse(text)).points) if (p.t > cutoff && p.t <= o.now()) coarse.push(p);
          } catch (e) {
            o.log?.(`metrics history in ${o.persistFile} ignored (damaged): ${e instanceof Error ? e.message : String(e)}`);
          }
        }
      }
      await this.sample();
      timer = setInterval(() => void this.sample(), o.sampleMs ?? METRIC_RANGES["1h"].intervalS * 1000);
      timer.unref();
    },
    sample() {
      // One sample at a time: a slow read (a loaded host) never overlaps the next.
      sampling = sampling.then(sampleOnce);
      return sampling;
    },
    query(q) {
      const ring = q.range === "1h" ? fine : coarse;
      const points = ring.toArray().filter((p) => q.since === undefined || p.t > q.since);
      return { range: q.range, intervalSeconds: METRIC_RANGES[q.range].intervalS, points };
    },
    vm(name, since) {
      const points = (vms.get(name)?.ring.toArray() ?? []).filter((p) => since === undefined || p.t > since);
      return { intervalSeconds: METRIC_RANGES["1h"].intervalS, points };
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await sampling;
      await persist();
    },
  };
}
