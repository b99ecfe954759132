/**
 * @module virt/vm-service
 * VM lifecycle over a {@link Hypervisor}, the storage pool and the VM networks:
 * create (checked in full before anything is made, rolled back if a later step
 * fails, so a refused or failed create leaves nothing behind), list, get, power
 * actions, autostart, delete (with or without the VM's disks), and the console
 * sockets. Creation is a named phase list: check → volumes → define and start (one
 * all-or-nothing hypervisor call); each phase that makes something registers its undo.
 *
 * @example
 * ```ts
 * const vms = vmService({ hypervisor: virshDriver(), pool: storagePool("/data/volumes"), root: "/", consoleDir: "/run/quantix/vms" });
 * await vms.create(VmSpec.parse({ name: "web-1", memory_mib: 1024, start: true }));
 * ```
 */
import { promises as fs } from "node:fs";
import { totalmem } from "node:os";
import { join } from "node:path";
import { consoleSockets, domainFiles, domainXml, parseDomain, type ResolvedDisk, type ResolvedNic } from "./domain-xml.ts";
import { VirtExistsError, VirtNotFoundError, VirtRequestError, VirtStateError } from "./errors.ts";
import type { DomainLifecycle, DomainRecord, DomainStats, Hypervisor } from "./hypervisor.ts";
import type { OvsBridges } from "./ovs-bridges.ts";
import type { VmInfo, VmSpec } from "./spec.ts";
import type { StoragePool } from "./storage-pool.ts";
import { loadVmNetworks } from "./vm-networks.ts";

export interface VmServiceOptions {
  readonly hypervisor: Hypervisor;
  readonly pool: StoragePool;
  /** Filesystem root of network.yaml. */
  readonly root: string;
  /** Where the serial console and VNC unix sockets of VMs live. */
  readonly consoleDir: string;
  /** Retags running VMs' ports after a network change (absent: no OVS here). */
  readonly ovs?: OvsBridges;
  /** Host memory in MiB (default: os.totalmem()). */
  readonly hostMemoryMib?: () => number;
}

export type VmAction = "start" | "shutdown" | "force-off" | "reboot";

export interface DeleteResult {
  readonly name: string;
  readonly volumes_deleted: string[];
}

export interface VmService {
  list(): Promise<VmInfo[]>;
  get(name: string): Promise<VmInfo>;
  create(spec: VmSpec): Promise<VmInfo>;
  action(name: string, action: VmAction): Promise<VmInfo>;
  setAutostart(name: string, on: boolean): Promise<VmInfo>;
  remove(name: string, o: { force: boolean; deleteDisks: boolean }): Promise<DeleteResult>;
  /** The unix socket of a running VM's serial console or VNC display. */
  consoleSocket(name: string, kind: "serial" | "vnc"): Promise<string>;
  /** Counters of the running VMs (for the metrics history). */
  stats(): Promise<DomainStats[]>;
  /** Lifecycle changes of every VM, whoever made them (libvirt's events). */
  watch(listener: (e: DomainLifecycle) => void): () => void;
  /** Names of the VMs whose disks, CD-ROM or kernel use each pool volume. */
  volumeUsers(): Promise<Map<string, string[]>>;
  /** Names of the VMs with a NIC on each network. */
  networkUsers(): Promise<Map<string, string[]>>;
  /** Sets every running VM port's VLAN tag to what network.yaml says now; returns the ports changed. */
  retagPorts(): Promise<string[]>;
}

/** Runs `steps` in order; when one throws, the undos registered so far run in reverse. */
async function phases(steps: readonly [string, (undo: (f: () => Promise<unknown>) => void) => Promise<void>][]): Promise<void> {
  const undos: (() => Promise<unknown>)[] = [];
  for (const [, step] of steps) {
    try {
      await step((f) => undos.push(f));
    } catch (e) {
      for (const u of undos.reverse()) await u().catch(() => undefined);
      throw e;
    }
  }
}

/** The VM service (see the module comment). */
export function vmService(o: VmServiceOptions): VmService {
  const hv = o.hypervisor;
  const hostMib = o.hostMemoryMib ?? (() => Math.floor(totalmem() / 1048576));
  // Parsed domains keyed by their exact XML: a list of unchanged VMs parses nothing.
  const parsed = new Map<string, VmInfo>();
  const info = (r: DomainRecord): VmInfo => {
    let base = parsed.get(r.xml);
    if (!base) {
      base = parseDomain(r.xml, { state: r.state, autostart: r.autostart, poolDir: o.pool.dir });
      if (parsed.size >= 1024) parsed.clear();
      parsed.set(r.xml, base);
    }
    return { ...base, state: r.state, autostart: r.autostart };
  };
  const need = async (name: string): Promise<DomainRecord> => {
    const r = await hv.get(name);
    if (!r) throw new VirtNotFoundError("vm", name, "see GET /api/v1/vms");
    return r;
  };
  const isActive = (r: DomainRecord) => r.state !== "shutoff" && r.state !== "crashed";

  async function users(pick: (i: VmInfo) => (string | null)[]): Promise<Map<string, string[]>> {
    const m = new Map<string, string[]>();
    for (const r of await hv.list()) {
      let i: VmInfo;
      try {
        i = info(r);
      } catch {
        continue;
      }
      for (const k of pick(i)) if (k) m.set(k, [...(m.get(k) ?? []), r.name]);
    }
    return m;
  }
  const volumeUsers = () =>
    users((i) => {
      const files = i.disks.map((d) => d.volume);
      return [...files, i.cdrom?.volume ?? null];
    });

  async function ensureConsoleDir(): Promise<void> {
    await fs.mkdir(o.consoleDir, { recursive: true, mode: 0o750 });
    // QEMU runs as libvirt-qemu on a node: let its group create the VNC socket here.
    const group = await fs.readFile("/etc/group", "utf8").catch(() => "");
    const gid = /^libvirt-qemu:[^:]*:(\d+):/m.exec(group)?.[1];
    if (gid) {
      await fs.chown(o.consoleDir, 0, Number(gid)).catch(() => undefined);
      await fs.chmod(o.consoleDir, 0o770).catch(() => undefined);
    }
  }

  async function create(spec: VmSpec): Promise<VmInfo> {
    const disks: ResolvedDisk[] = [];
    const nics: ResolvedNic[] = [];
    let cdromPath: string | undefined;
    let kernelPath: string | undefined;
    let initrdPath: string | undefined;
    let created: DomainRecord | undefined;
    await phases([
      [
        "check",
        async () => {
          // libvirt refuses a taken name at define time anyway; asking first matters only
          // when volumes would be made (and rolled back) before that.
          if (spec.disks.some((d) => d.size_mib !== undefined) && (await hv.get(spec.name))) throw new VirtExistsError("vm", spec.name);
          const host = hostMib();
          if (spec.memory_mib > host) throw new VirtRequestError("memory_mib", `${spec.memory_mib} MiB is more than this host has (${host} MiB)`);
          if (spec.nics.length > 0) {
            const { networks, error } = await loadVmNetworks(o.root);
            for (const [i, nic] of spec.nics.entries()) {
              const net = networks.find((n) => n.name === nic.network);
              if (!net) {
                const known = networks.map((n) => n.name).join(", ") || "none";
                throw new VirtRequestError(`nics.${i}.network`, `no network named ${nic.network} in network.yaml (networks: ${known})${error ? `; network.yaml: ${error}` : ""}`);
              }
              if (nic.vlan !== undefined && net.vlan !== undefined) {
                throw new VirtRequestError(`nics.${i}.vlan`, `network ${net.name} is VLAN ${net.vlan} already; a NIC VLAN is only allowed on a network without one`);
              }
              nics.push({ network: net.name, bridge: net.bridge, vlan: nic.vlan ?? net.vlan, model: nic.model, mac: nic.mac });
            }
          }
          const must = async (volume: string, field: string, what: string) => {
            if (!(await o.pool.exists(volume))) throw new VirtRequestError(field, `no ${what} named ${volume} in the storage pool; upload it first (PUT /api/v1/storage/volumes/${volume}/content)`);
            return o.pool.path(volume);
          };
          if (spec.cdrom) cdromPath = await must(spec.cdrom, "cdrom", "ISO volume");
          if (spec.kernel) {
            kernelPath = await must(spec.kernel.kernel, "kernel.kernel", "kernel volume");
            if (spec.kernel.initrd) initrdPath = await must(spec.kernel.initrd, "kernel.initrd", "initramfs volume");
          }
          const existing = spec.disks.filter((d) => d.size_mib === undefined);
          for (const [i, d] of spec.disks.entries()) {
            const there = await o.pool.exists(d.volume);
            if (d.size_mib !== undefined && there) throw new VirtExistsError("volume", d.volume);
            if (d.size_mib === undefined && !there) {
              throw new VirtRequestError(`disks.${i}.volume`, `no volume named ${d.volume}; give size_mib to create it, or create it first (POST /api/v1/storage/volumes)`);
            }
            disks.push({ path: o.pool.path(d.volume), bus: d.bus });
          }
          if (existing.length > 0) {
            const used = await volumeUsers();
            for (const d of existing) {
              const by = used.get(d.volume);
              if (by) throw new VirtStateError(`volume ${d.volume} is a disk of VM ${by.join(", ")} already; detach it there or use another volume`);
            }
          }
        },
      ],
      [
        "volumes",
        async (undo) => {
          for (const d of spec.disks) {
            if (d.size_mib === undefined) continue;
            await o.pool.create(d.volume, d.size_mib);
            undo(() => o.pool.remove(d.volume));
          }
        },
      ],
      [
        "define and start",
        async () => {
          await ensureConsoleDir();
          const xml = domainXml({
            spec,
            uuid: crypto.randomUUID(),
            type: await hv.domainType(),
            disks,
            cdromPath,
            kernelPath,
            initrdPath,
            nics,
            serialSocket: join(o.consoleDir, `${spec.name}.serial`),
            vncSocket: join(o.consoleDir, `${spec.name}.vnc`),
          });
          // All or nothing on the hypervisor's side (see Hypervisor.create).
          created = await hv.create(xml, { autostart: spec.autostart, start: spec.start });
        },
      ],
    ]);
    if (!created) throw new Error("create: no domain record");
    return info(created);
  }

  const service: VmService = {
    async list() {
      const out: VmInfo[] = [];
      for (const r of await hv.list()) {
        try {
          out.push(info(r));
        } catch {
          // A domain whose XML this parser cannot read is still listed, by name and state.
          out.push({ name: r.name, uuid: "", state: r.state, autostart: r.autostart, description: null, vcpus: 0, memory_mib: 0, firmware: "bios", disks: [], cdrom: null, nics: [], boot: [], console: { serial: false, vnc: false } });
        }
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    async get(name) {
      return info(await need(name));
    },
    stats: () => hv.stats(),
    watch: (listener) => hv.watch(listener),
    create,
    async action(name, action) {
      const r = await need(name);
      const active = isActive(r);
      if (action === "start") {
        if (active) throw new VirtStateError(`VM ${name} is ${r.state} already`);
        await hv.start(name);
      } else {
        if (!active) throw new VirtStateError(`VM ${name} is not running (state ${r.state}); start it first`);
        if (action === "shutdown") await hv.shutdown(name);
        else if (action === "force-off") await hv.destroy(name);
        else await hv.reboot(name);
      }
      return info(await need(name));
    },
    async setAutostart(name, on) {
      await need(name);
      await hv.setAutostart(name, on);
      return info(await need(name));
    },
    async remove(name, { force, deleteDisks }) {
      const r = await need(name);
      if (isActive(r)) {
        if (!force) throw new VirtStateError(`VM ${name} is ${r.state}: shut it down first, or delete with force=true to power it off`);
        await hv.destroy(name);
      }
      const files = domainFiles(r.xml).disks;
      await hv.undefine(name);
      const deleted: string[] = [];
      if (deleteDisks) {
        const used = await volumeUsers();
        for (const f of files) {
          const v = parseDomain(r.xml, { state: r.state, autostart: false, poolDir: o.pool.dir }).disks.find((d) => d.path === f)?.volume;
          if (!v || used.has(v)) continue;
          await o.pool.remove(v).then(
            () => deleted.push(v),
            () => undefined,
          );
        }
      }
      await Promise.all(["serial", "vnc"].map((k) => fs.rm(join(o.consoleDir, `${name}.${k}`), { force: true })));
      return { name, volumes_deleted: deleted };
    },
    async consoleSocket(name, kind) {
      const r = await need(name);
      if (!isActive(r)) throw new VirtStateError(`VM ${name} is not running; start it to use its console`);
      const s = consoleSockets(r.xml)[kind];
      if (!s) throw new VirtStateError(`VM ${name} has no ${kind === "vnc" ? "VNC display on a unix socket" : "serial console on a unix socket"} (it was not created by qx-node)`);
      return s;
    },
    volumeUsers,
    networkUsers: () => users((i) => i.nics.map((n) => n.network)),
    async retagPorts() {
      if (!o.ovs) return [];
      const { networks } = await loadVmNetworks(o.root);
      const changed: string[] = [];
      for (const r of await hv.list()) {
        if (!isActive(r)) continue;
        for (const nic of info(r).nics) {
          const net = networks.find((n) => n.name === nic.network);
          // A network without a VLAN leaves each port's own tag (a per-NIC VLAN) alone.
          if (!net || !nic.port || net.vlan === undefined) continue;
          const want = net.vlan;
          const have = await o.ovs.portTag(nic.port);
          if (have === undefined || have === want) continue;
          await o.ovs.setPortTag(nic.port, want);
          changed.push(nic.port);
        }
      }
      return changed;
    },
  };
  return service;
}
