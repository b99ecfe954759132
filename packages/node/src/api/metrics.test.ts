import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Counters, createMetrics } from "../services/metrics.ts";
import { memoryVirt, type VirtServices } from "../virt/virt-services.ts";
import { startTestNode, type TestNode } from "./test-server.ts";

describe("GET /api/v1/metrics", () => {
  let n: TestNode;
  let t = 1_800_000_000_000;
  let k = 0;
  let virt: VirtServices | undefined;
  const metrics = createMetrics({
    vmStats: async () => (virt ? virt.vms.stats() : []),
    root: "/nonexistent",
    now: () => t,
    sampleMs: 3_600_000,
    read: async (): Promise<Counters> => {
      k++;
      return { t, cpuBusy: k * 25, cpuTotal: k * 100, memUsedBytes: 1 << 30, memTotalBytes: 2 << 30, dataUsedBytes: 5 << 20, dataTotalBytes: 10 << 20, rxBytes: k * 1000, txBytes: k * 3000 };
    },
  });
  before(async () => {
    n = await startTestNode({}, {
      metrics,
      virt: (root) => {
        virt = memoryVirt(root);
        return virt;
      },
    });
    const made = await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: "web-1", memory_mib: 512 } });
    assert.equal(made.status, 201, made.text);
    assert.equal((await n.call("POST", "/api/v1/vms/web-1/start", { token: n.admin })).status, 200);
    for (let i = 0; i < 40; i++) {
      t += 10_000;
      await metrics.sample();
    }
  });
  after(() => n.close());

  it("serves the last hour at 10 s for a read token, newer than `since` when asked", async () => {
    const r = await n.call("GET", "/api/v1/metrics", { token: n.reader });
    assert.equal(r.status, 200);
    assert.equal(r.json.range, "1h");
    assert.equal(r.json.intervalSeconds, 10);
    assert.equal(r.json.points.length, 40);
    assert.deepEqual(r.json.points[0], { t: 1_800_000_010_000, cpu: 0.25, memUsedBytes: 1 << 30, memTotalBytes: 2 << 30, dataUsedBytes: 5 << 20, dataTotalBytes: 10 << 20, netRxBytesPerSec: 100, netTxBytesPerSec: 300 });
    const last = r.json.points.at(-1).t;
    const since = await n.call("GET", `/api/v1/metrics?since=${last - 20_000}`, { token: n.reader });
    assert.equal(since.json.points.length, 2);
  });

  it("serves 5-minute averages for range=24h", async () => {
    const r = await n.call("GET", "/api/v1/metrics?range=24h", { token: n.reader });
    assert.equal(r.status, 200);
    assert.equal(r.json.intervalSeconds, 300);
    assert.ok(r.json.points.length >= 1 && r.json.points.every((p: { t: number }) => p.t % 300_000 === 0));
  });

  it("refuses a bad range or since with a sentence, and a caller without a token", async () => {
    const bad = await n.call("GET", "/api/v1/metrics?range=7d", { token: n.reader });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /range must be 1h or 24h/);
    const since = await n.call("GET", "/api/v1/metrics?since=yesterday", { token: n.reader });
    assert.equal(since.status, 400);
    assert.match(since.text, /since must be a time in milliseconds/);
    assert.equal((await n.call("GET", "/api/v1/metrics")).status, 401);
  });

  it("serves a running VM's figures from libvirt's counters; 404 for a VM that does not exist", async () => {
    const r = await n.call("GET", "/api/v1/vms/web-1/metrics", { token: n.reader });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.intervalSeconds, 10);
    assert.equal(r.json.points.length, 39, "the first reading only starts the deltas");
    // The memory hypervisor adds 5 s of CPU time and 1 MB of disk reads per reading, 10 s apart.
    assert.deepEqual(r.json.points[0], { t: 1_800_000_020_000, cpuCores: 0.5, memoryBytes: 512 << 20, memoryRssBytes: 300 << 20, diskReadBytesPerSec: 100_000, diskWriteBytesPerSec: 200_000, netRxBytesPerSec: 30_000, netTxBytesPerSec: 10_000 });
    const missing = await n.call("GET", "/api/v1/vms/nope/metrics", { token: n.reader });
    assert.equal(missing.status, 404);
    assert.match(missing.json.message, /nope/);
  });

  it("is in the OpenAPI document", async () => {
    const doc = await n.call("GET", "/api/v1/openapi.json", { token: n.reader });
    assert.ok(doc.json.paths["/api/v1/metrics"]?.get, "GET /api/v1/metrics documented");
    assert.ok(doc.json.paths["/api/v1/vms/{name}/metrics"]?.get, "GET /api/v1/vms/{name}/metrics documented");
  });
});
