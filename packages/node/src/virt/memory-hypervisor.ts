/**
 * @module virt/memory-hypervisor
 * A {@link Hypervisor} that keeps domains in memory, for API tests that must run
 * without libvirtd (authz matrix, fuzz, validation). It follows libvirt's rules that
 * the API relies on — a name taken by another UUID is refused, only a shut-off
 * domain can be started or undefined, only a running one shut down — and passes the
 * same contract suite as the virsh driver. Shutdown completes at once. Lifecycle
 * changes are reported to watchers as libvirt words them.
 */
import { VirtExistsError, VirtNotFoundError, VirtStateError } from "./errors.ts";
import type { DomainLifecycle, DomainRecord, Hypervisor } from "./hypervisor.ts";
import type { VmState } from "./spec.ts";
import { child, parseXml } from "./xml.ts";

interface Domain {
  xml: string;
  uuid: string;
  state: VmState;
  autostart: boolean;
}

/** An in-memory hypervisor; `type` is what domainType() answers. */
export function memoryHypervisor(type: "kvm" | "qemu" = "qemu"): Hypervisor & { readonly domains: Map<string, Domain> } {
  const domains = new Map<string, Domain>();
  let calls = 0;
  const watchers = new Set<(e: DomainLifecycle) => void>();
  const emit = (name: string, event: string, detail: string | null) => {
    for (const w of watchers) w({ name, event, detail });
  };
  const need = (name: string): Domain => {
    const d = domains.get(name);
    if (!d) throw new VirtNotFoundError("vm", name);
    return d;
  };
  const record = (name: string, d: Domain): DomainRecord => ({ name, state: d.state, autostart: d.autostart, xml: d.xml });
  const running = (name: string, d: Domain) => {
    if (d.state !== "running" && d.state !== "paused") throw new VirtStateError(`${name}: Requested operation is not valid: domain is not running`);
  };
  return {
    domains,
    async list() {
      return [...domains].map(([n, d]) => record(n, d));
    },
    async get(name) {
      const d = domains.get(name);
      return d ? record(name, d) : null;
    },
    async define(xml) {
      const root = parseXml(xml);
      const name = child(root, "name")?.text ?? "";
      const uuid = child(root, "uuid")?.text ?? crypto.randomUUID();
      const old = domains.get(name);
      if (old && old.uuid !== uuid) throw new VirtExistsError("vm", name);
      domains.set(name, { xml, uuid, state: old?.state ?? "shutoff", autostart: old?.autostart ?? false });
      emit(name, "Defined", old ? "Updated" : "Added");
    },
    async create(xml, o) {
      await this.define(xml);
      const name = child(parseXml(xml), "name")?.text ?? "";
      const d = need(name);
      d.autostart = o.autostart;
      if (o.start) {
        d.state = "running";
        emit(name, "Started", "Booted");
      }
      return record(name, d);
    },
    async undefine(name) {
      const d = need(name);
      if (d.state !== "shutoff") throw new VirtStateError(`${name}: cannot undefine a running domain here; stop it first`);
      domains.delete(name);
      emit(name, "Undefined", "Removed");
    },
    async start(name) {
      const d = need(name);
      if (d.state !== "shutoff" && d.state !== "crashed") throw new VirtStateError(`${name}: Requested operation is not valid: domain is already running`);
      d.state = "running";
      emit(name, "Started", "Booted");
    },
    async shutdown(name) {
      const d = need(name);
      running(name, d);
      d.state = "shutoff";
      emit(name, "Stopped", "Shutdown");
    },
    async destroy(name) {
      const d = need(name);
      running(name, d);
      d.state = "shutoff";
      emit(name, "Stopped", "Destroyed");
    },
    async reboot(name) {
      running(name, need(name));
    },
    async setAutostart(name, on) {
      need(name).autostart = on;
    },
    async domainType() {
      return type;
    },
    watch(listener) {
      watchers.add(listener);
      return () => watchers.delete(listener);
    },
    async stats() {
      // Counters that grow with each call, like a VM that is doing something.
      calls++;
      return [...domains]
        .filter(([, d]) => d.state === "running" || d.state === "paused")
        .map(([name]) => ({ name, cpuTimeNs: calls * 5e9, memoryBytes: 512 << 20, memoryRssBytes: 300 << 20, diskReadBytes: calls * 1e6, diskWriteBytes: calls * 2e6, netRxBytes: calls * 3e5, netTxBytes: calls * 1e5 }));
    },
  };
}
