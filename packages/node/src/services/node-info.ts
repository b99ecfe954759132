/**
 * @module services/node-info
 * `GET /api/v1/node`: who the node is (id, hostname, version, booted slot), how it
 * runs (uptime, CPU, memory) and whether it can host VMs (KVM, IOMMU), plus the TLS
 * certificate's fingerprint. Kernel facts come from `/proc`, `/sys` and `/dev` under
 * the context's root, so tests lay them out as files.
 *
 * @example
 * ```ts
 * const info = await readNodeInfo(ctx, cert); // { hostname: "quantix-01", slot: { booted: "A", ... }, ... }
 * ```
 */
import { promises as fs } from "node:fs";
import { cpus, loadavg, totalmem, freemem, uptime } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import type { NodeContext } from "../context.ts";
import type { NodeCertificate } from "./certificate.ts";
import { loadConfigInForce } from "./config.ts";
import { readBootInfo } from "./slot.ts";
import { readVersion } from "./version.ts";

export const NodeInfo = z.object({
  id: z.string().nullable(),
  hostname: z.string(),
  version: z.string().nullable(),
  slot: z.object({ booted: z.enum(["A", "B"]).nullable(), trying: z.boolean(), live: z.boolean() }),
  uptimeSeconds: z.number(),
  cpu: z.object({ model: z.string(), count: z.number().int(), load: z.array(z.number()) }),
  memory: z.object({ totalBytes: z.number(), availableBytes: z.number() }),
  virtualization: z.object({
    kvm: z.boolean().describe("/dev/kvm exists"),
    cpuExtension: z.enum(["vmx", "svm"]).nullable().describe("Intel VT-x (vmx) or AMD-V (svm) in the CPU flags"),
    iommu: z.boolean().describe("an IOMMU is active (/sys/class/iommu has entries)"),
  }),
  certificate: z.object({ fingerprint: z.string(), notAfter: z.string() }),
});
export type NodeInfo = z.infer<typeof NodeInfo>;

const read = (root: string, p: string) => fs.readFile(join(root, p), "utf8").catch(() => null);
const exists = (root: string, p: string) => fs.access(join(root, p)).then(() => true, () => false);

/** MemAvailable from /proc/meminfo, in bytes; null when absent. */
export function memAvailable(meminfo: string | null): number | null {
  const m = /^MemAvailable:\s+(\d+)\s+kB/m.exec(meminfo ?? "");
  return m ? Number(m[1]) * 1024 : null;
}

/** vmx or svm when /proc/cpuinfo's flags have it. */
export function cpuExtension(cpuinfo: string | null): "vmx" | "svm" | null {
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo ?? "")?.[1]?.split(/\s+/) ?? [];
  return flags.includes("vmx") ? "vmx" : flags.includes("svm") ? "svm" : null;
}

/** Gathers the node document. */
export async function readNodeInfo(ctx: NodeContext, cert: NodeCertificate): Promise<NodeInfo> {
  const r = ctx.root;
  const [config, version, boot, uptimeText, meminfo, cpuinfo, kvm, iommu] = await Promise.all([
    loadConfigInForce(r),
    readVersion(r).catch(() => null),
    readBootInfo(r).catch(() => null),
    read(r, "proc/uptime"),
    read(r, "proc/meminfo"),
    read(r, "proc/cpuinfo"),
    exists(r, "dev/kvm"),
    fs.readdir(join(r, "sys/class/iommu")).then((l) => l.length > 0, () => false),
  ]);
  const cpuList = cpus();
  const up = Number(uptimeText?.split(" ")[0]);
  return {
    id: config.node.value?.node_id ?? null,
    hostname: config.node.value?.hostname ?? ctx.hostname(),
    version,
    slot: { booted: boot?.slot ?? null, trying: boot?.trying ?? false, live: boot?.live ?? false },
    uptimeSeconds: Math.round(Number.isFinite(up) ? up : uptime()),
    cpu: { model: cpuList[0]?.model.trim() ?? "unknown", count: cpuList.length, load: loadavg().map((l) => Math.round(l * 100) / 100) },
    memory: { totalBytes: totalmem(), availableBytes: memAvailable(meminfo) ?? freemem() },
    virtualization: { kvm, cpuExtension: cpuExtension(cpuinfo), iommu },
    certificate: { fingerprint: cert.fingerprint, notAfter: cert.notAfter },
  };
}

/**
 * A cache for the node document: many clients polling the dashboard cost one read of
 * the files per `ttlMs`. {@link NodeInfoCache.invalidate} after a change.
 */
export class NodeInfoCache {
  #value: Promise<NodeInfo> | null = null;
  #at = 0;
  constructor(
    private readonly load: () => Promise<NodeInfo>,
    private readonly now: () => number,
    private readonly ttlMs = 1000,
  ) {}
  get(): Promise<NodeInfo> {
    const t = this.now();
    if (!this.#value || t - this.#at >= this.ttlMs) {
      this.#at = t;
      const p = this.load();
      this.#value = p;
      p.catch(() => {
        if (this.#value === p) this.#value = null;
      });
    }
    return this.#value;
  }
  invalidate(): void {
    this.#value = null;
  }
}
