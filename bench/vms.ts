/**
 * bench/vms: VM lifecycle speed through qx-node's API against libvirt directly, on a
 * private libvirtd + OVS (tests/integration/virt-host; root needed), QEMU under TCG.
 *  1. create+start: POST /api/v1/vms {start: true} ÷ `virsh define` + `virsh start` of
 *     the same domain XML (a diskless 64 MiB guest that sits in its firmware), median
 *     of --rounds alternating runs; the VM is destroyed and undefined between runs
 *     (not timed). Goal ≤ 1.2×.
 *  2. list: GET /api/v1/vms with --count defined (not running) VMs. The first list of a
 *     fresh qx-node reads every domain's XML (it starts the libvirt event watcher,
 *     trusted SETTLE_MS later); after that, unchanged domains come from the cache:
 *     the first list, then the median of 10. Goal < 200 ms. `virsh list --all` alone
 *     is printed for reference.
 *   npx tsx bench/vms.ts [--rounds 7] [--count 200]
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startTestNode } from "../packages/node/src/api/test-server.ts";
import { domainXml } from "../packages/node/src/virt/domain-xml.ts";
import { VmSpec } from "../packages/node/src/virt/spec.ts";
import { SETTLE_MS } from "../packages/node/src/virt/virsh-events.ts";
import { defaultVirt } from "../packages/node/src/virt/virt-services.ts";
import { startVirtHost } from "../tests/integration/virt-host.ts";

const { values } = parseArgs({ options: { rounds: { type: "string" }, count: { type: "string" } } });
const ROUNDS = Number(values.rounds ?? 7);
const COUNT = Number(values.count ?? 200);
if (!(ROUNDS >= 1 && ROUNDS <= 50 && COUNT >= 1 && COUNT <= 2000)) {
  console.error("bounds: rounds 1..50, count 1..2000");
  process.exit(2);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? (s[(s.length - 1) / 2] ?? 0) : ((s[s.length / 2 - 1] ?? 0) + (s[s.length / 2] ?? 0)) / 2;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;

const host = await startVirtHost();
if ("skip" in host) {
  console.error(`bench/vms: cannot run here: ${host.skip}`);
  process.exit(2);
}
const env = { QX_LIBVIRT_URI: host.uri, QX_VIRT_ACCEL: "qemu", QX_OVS_DB: host.ovsDb, QX_POOL_DIR: host.poolDir, QX_CONSOLE_DIR: host.consoleDir };
const node = await startTestNode({}, { virt: (root) => defaultVirt(root, env) });
try {
  const spec = { name: "bench-vm", memory_mib: 64, start: true };
  const xml = domainXml({
    spec: VmSpec.parse(spec),
    uuid: crypto.randomUUID(),
    type: "qemu",
    disks: [],
    nics: [],
    serialSocket: join(host.consoleDir, "bench-vm.serial"),
    vncSocket: join(host.consoleDir, "bench-vm.vnc"),
  });
  const xmlFile = join(host.dir, "bench-vm.xml");
  await fs.writeFile(xmlFile, xml);
  await fs.mkdir(host.consoleDir, { recursive: true });
  const cleanup = async () => {
    await host.virsh("destroy", "bench-vm").catch(() => undefined);
    await host.virsh("undefine", "bench-vm", "--nvram").catch(() => undefined);
  };

  // Warm both paths once (libvirt's first QEMU start loads more than later ones).
  await host.virsh("define", xmlFile);
  await host.virsh("start", "bench-vm");
  await cleanup();
  const api: number[] = [];
  const direct: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    let t = performance.now();
    const r = await node.call("POST", "/api/v1/vms", { token: node.admin, body: spec });
    api.push(performance.now() - t);
    if (r.status !== 201) throw new Error(`create failed: ${r.status} ${r.text}`);
    await cleanup();
    t = performance.now();
    await host.virsh("define", xmlFile);
    await host.virsh("start", "bench-vm");
    direct.push(performance.now() - t);
    await cleanup();
  }
  const ratio = median(api) / median(direct);
  console.log(`create+start (${ROUNDS} rounds, diskless TCG guest)`);
  console.log(`  API POST /api/v1/vms {start:true}  median ${ms(median(api))}  (min ${ms(Math.min(...api))}, max ${ms(Math.max(...api))})`);
  console.log(`  virsh define + virsh start         median ${ms(median(direct))}  (min ${ms(Math.min(...direct))}, max ${ms(Math.max(...direct))})`);
  console.log(`  ratio ${ratio.toFixed(2)}x  (goal <= 1.2x: ${ratio <= 1.2 ? "met" : "NOT met"})`);

  // Define COUNT shut-off VMs in a few virsh processes.
  const names = Array.from({ length: COUNT }, (_, i) => `list-${String(i).padStart(4, "0")}`);
  for (let i = 0; i < names.length; i += 50) {
    const files: string[] = [];
    for (const name of names.slice(i, i + 50)) {
      const f = join(host.dir, `${name}.xml`);
      const nics = i % 100 === 0 ? [] : [];
      await fs.writeFile(
        f,
        domainXml({
          spec: VmSpec.parse({ name, memory_mib: 128, vcpus: 2, description: `bench VM ${name}` }),
          uuid: crypto.randomUUID(),
          type: "qemu",
          disks: [{ path: join(host.poolDir, `${name}.raw`), bus: "virtio" }],
          nics,
          serialSocket: join(host.consoleDir, `${name}.serial`),
          vncSocket: join(host.consoleDir, `${name}.vnc`),
        }),
      );
      files.push(f);
    }
    await host.virsh(files.map((f) => `define ${f}`).join(" ; "));
  }
  let t0 = performance.now();
  const first = await node.call("GET", "/api/v1/vms", { token: node.reader });
  const cold = performance.now() - t0;
  if (first.status !== 200 || first.json.vms.length !== COUNT) throw new Error(`list: ${first.status}, ${first.json?.vms?.length} VMs`);
  await new Promise((r) => setTimeout(r, SETTLE_MS + 100));
  t0 = performance.now();
  await node.call("GET", "/api/v1/vms", { token: node.reader });
  const fill = performance.now() - t0;
  const lists: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < 10; i++) {
    let t = performance.now();
    const r = await node.call("GET", "/api/v1/vms", { token: node.reader });
    lists.push(performance.now() - t);
    if (r.status !== 200 || r.json.vms.length !== COUNT) throw new Error(`list: ${r.status}, ${r.json?.vms?.length} VMs`);
    t = performance.now();
    await host.virsh("list", "--all");
    raw.push(performance.now() - t);
  }
  console.log(`list ${COUNT} defined VMs (10 runs)`);
  console.log(`  API GET /api/v1/vms, first after start (no cache)  ${ms(cold)}  (goal < 200 ms: ${cold < 200 ? "met" : "NOT met"})`);
  console.log(`  API GET /api/v1/vms, the list that fills the cache  ${ms(fill)}`);
  console.log(`  API GET /api/v1/vms, cached   median ${ms(median(lists))}  (max ${ms(Math.max(...lists))})  (goal < 200 ms: ${median(lists) < 200 ? "met" : "NOT met"})`);
  console.log(`  virsh list --all                 median ${ms(median(raw))}  (names and states only, for reference)`);
} finally {
  await node.close();
  await host.stop();
}
