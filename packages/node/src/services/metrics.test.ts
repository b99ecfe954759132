import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  averagePoints,
  type Counters,
  createMetrics,
  type MetricPoint,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  pointBetween,
  Ring,
  readCounters,
} from "./metrics.ts";

const STAT = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1\n";
const MEMINFO = "MemTotal:        2000000 kB\nMemFree:          500000 kB\nMemAvailable:    1500000 kB\n";
const NETDEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 999999     10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0
enp0s2: 1000       10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
  br0:  5000       10    0    0    0     0          0         0     5000      20    0    0    0     0       0          0
`;

function counters(t: number, o: Partial<Counters> = {}): Counters {
  return { t, cpuBusy: 0, cpuTotal: 0, memUsedBytes: 1, memTotalBytes: 2, dataUsedBytes: null, dataTotalBytes: null, rxBytes: 0, txBytes: 0, ...o };
}

describe("metrics parsing", () => {
  it("reads /proc/stat, /proc/meminfo and /proc/net/dev", () => {
    assert.deepEqual(parseProcStat(STAT), { busy: 150, total: 1000 });
    assert.deepEqual(parseMeminfo(MEMINFO), { used: 500000 * 1024, total: 2000000 * 1024 });
    assert.deepEqual(parseNetDev(NETDEV, (n) => n === "enp0s2"), { rx: 1000, tx: 2000 });
    assert.throws(() => parseProcStat("intr 1\n"), /no aggregate cpu line/);
    assert.throws(() => parseMeminfo("MemFree: 1 kB\n"), /no MemTotal/);
  });

  it("turns two readings into rates; a counter that went back (a reboot, a NIC reset) gives 0, not a negative rate", () => {
    const p = pointBetween(counters(0, { cpuBusy: 100, cpuTotal: 1000, rxBytes: 0, txBytes: 5000 }), counters(10_000, { cpuBusy: 350, cpuTotal: 2000, rxBytes: 10_000, txBytes: 100 }));
    assert.ok(p);
    assert.equal(p.cpu, 0.25);
    assert.equal(p.netRxBytesPerSec, 1000);
    assert.equal(p.netTxBytesPerSec, 0);
    assert.equal(pointBetween(counters(5), counters(5)), null);
  });

  it("averages a bucket, leaving /data null only when no point knew it", () => {
    const a: MetricPoint = { t: 1, cpu: 0.2, memUsedBytes: 10, memTotalBytes: 100, dataUsedBytes: null, dataTotalBytes: null, netRxBytesPerSec: 1, netTxBytesPerSec: 3 };
    const b: MetricPoint = { ...a, t: 2, cpu: 0.4, memUsedBytes: 30, dataUsedBytes: 50, dataTotalBytes: 500 };
    const avg = averagePoints([a, b], 300_000);
    assert.equal(avg.t, 300_000);
    assert.ok(Math.abs(avg.cpu - 0.3) < 1e-9);
    assert.equal(avg.memUsedBytes, 20);
    assert.equal(avg.dataUsedBytes, 50);
    assert.equal(averagePoints([a], 5).dataUsedBytes, null);
  });

  it("keeps a ring at its capacity, oldest first", () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 7; i++) r.push(i);
    assert.deepEqual(r.toArray(), [5, 6, 7]);
    assert.equal(r.size, 3);
  });
});

describe("metrics store", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-metrics-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  /** A store fed by a scripted clock and counters: 1% more CPU busy per sample. */
  function scripted(o: { persistFile?: string; start?: number } = {}) {
    let now = o.start ?? 1_800_000_000_000;
    let n = 0;
    const read = async () => {
      n++;
      return counters(now, { cpuBusy: n * 10, cpuTotal: n * 100, rxBytes: n * 10_000, txBytes: n * 20_000 });
    };
    const m = createMetrics({ root: dir, now: () => now, read, sampleMs: 3_600_000, ...(o.persistFile ? { persistFile: o.persistFile } : {}) });
    return {
      m,
      advance: async (ms: number) => {
        now += ms;
        await m.sample();
      },
    };
  }

  it("keeps an hour of 10 s samples and a day of 5-minute averages, bounded", async () => {
    const { m, advance } = scripted({ start: 1_800_000_000_000 - (1_800_000_000_000 % 300_000) });
    await m.start();
    for (let i = 0; i < 2 * 8640 + 5; i++) await advance(10_000); // two days
    const hour = m.query({ range: "1h" });
    assert.equal(hour.intervalSeconds, 10);
    assert.equal(hour.points.length, 360);
    assert.ok(hour.points.every((p, i, a) => i === 0 || p.t - (a[i - 1] as MetricPoint).t === 10_000));
    assert.equal(hour.points[0]?.cpu, 0.1);
    assert.equal(hour.points[0]?.netRxBytesPerSec, 1000);
    const day = m.query({ range: "24h" });
    assert.equal(day.intervalSeconds, 300);
    assert.equal(day.points.length, 288);
    assert.ok(day.points.every((p) => p.t % 300_000 === 0));
    const since = (hour.points.at(-3) as MetricPoint).t;
    assert.equal(m.query({ range: "1h", since }).points.length, 2);
    await m.stop();
  });

  it("keeps the day's history across a restart, and ignores a damaged file", async () => {
    const file = join(dir, "data/.cache/qx-metrics.json");
    const first = scripted({ persistFile: file });
    await first.m.start();
    for (let i = 0; i < 100; i++) await first.advance(10_000);
    await first.m.stop();
    const saved = first.m.query({ range: "24h" }).points;
    assert.ok(saved.length >= 2);
    const second = scripted({ persistFile: file, start: (saved.at(-1) as MetricPoint).t + 60_000 });
    await second.m.start();
    assert.deepEqual(second.m.query({ range: "24h" }).points, saved);
    await second.m.stop();

    await writeFile(file, "{ not json");
    const logs: string[] = [];
    const third = createMetrics({ root: dir, now: () => Date.now(), read: async () => counters(Date.now()), persistFile: file, log: (l) => logs.push(l), sampleMs: 3_600_000 });
    await third.start();
    assert.deepEqual(third.query({ range: "24h" }).points, []);
    assert.match(logs.join("\n"), /ignored \(damaged\)/);
    await third.stop();
  });

  it("does not write the history while /data is not mounted", async () => {
    const file = join(dir, "data/.cache/qx-metrics.json");
    const m = createMetrics({ root: dir, now: () => 1, read: async () => counters(1), persistFile: file, persistIf: async () => false, sampleMs: 3_600_000 });
    await m.start();
    await m.stop();
    await assert.rejects(readFile(file), /ENOENT/);
  });

  it("survives 50 samples asked for at once (one read at a time)", async () => {
    let inFlight = 0;
    let most = 0;
    let t = 0;
    const m = createMetrics({
      root: dir,
      now: () => t,
      sampleMs: 3_600_000,
      read: async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight--;
        t += 10_000;
        return counters(t, { cpuBusy: t / 100, cpuTotal: t / 10 });
      },
    });
    await m.start();
    await Promise.all(Array.from({ length: 50 }, () => m.sample()));
    assert.equal(most, 1);
    assert.equal(m.query({ range: "1h" }).points.length, 50);
    await m.stop();
  });

  it("reads a real-looking /proc and /sys tree", async () => {
    await mkdir(join(dir, "proc/net"), { recursive: true });
    await mkdir(join(dir, "proc/self"), { recursive: true });
    await writeFile(join(dir, "proc/stat"), STAT);
    await writeFile(join(dir, "proc/meminfo"), MEMINFO);
    await writeFile(join(dir, "proc/net/dev"), NETDEV);
    await mkdir(join(dir, "data"), { recursive: true });
    await writeFile(join(dir, "proc/self/mountinfo"), "30 1 254:5 / /data rw,noatime - xfs /dev/vda5 rw\n");
    await mkdir(join(dir, "sys/devices/pci/virtio0/net/enp0s2"), { recursive: true });
    await mkdir(join(dir, "sys/class/net"), { recursive: true });
    await symlink(join(dir, "sys/devices/pci/virtio0/net/enp0s2"), join(dir, "sys/class/net/enp0s2"));
    await symlink(join(dir, "sys/devices/pci/virtio0"), join(dir, "sys/devices/pci/virtio0/net/enp0s2/device"));
    await mkdir(join(dir, "sys/class/net/br0-virtual"), { recursive: true });
    const c = await readCounters(dir, () => 42);
    assert.equal(c.cpuTotal, 1000);
    assert.equal(c.memTotalBytes, 2000000 * 1024);
    assert.equal(c.rxBytes, 1000, "only the physical port counts");
    assert.ok(c.dataTotalBytes !== null && c.dataTotalBytes > 0, "statfs of the mounted /data");
  });
});
