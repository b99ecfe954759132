/**
 * @module virt/domain-xml
 * Libvirt domain XML from a resolved VM spec ({@link domainXml}), and the VM read back
 * from the XML libvirt reports ({@link parseDomain}). Every value that came from a
 * request is escaped by virt/xml; paths were resolved inside the pool beforehand.
 *
 * Conventions: q35 machine; `<os firmware='efi'>` for UEFI (libvirt picks OVMF from
 * the firmware descriptors); NICs are OVS ports (`<virtualport type='openvswitch'>`,
 * an access VLAN as `<vlan><tag/>`); the serial console and VNC are unix sockets
 * qx-node proxies to WebSockets; the Quantix network name of each NIC is kept in
 * `<metadata>` so it can be reported back.
 *
 * @example
 * ```ts
 * const xml = domainXml({ spec, uuid, type: "kvm", disks: [...], nics: [...], serialSocket, vncSocket });
 * parseDomain(xml, { state: "shutoff", autostart: false, poolDir: "/data/volumes" }).vcpus;
 * ```
 */
import { basename, dirname } from "node:path";
import type { VmInfo, VmSpec, VmState } from "./spec.ts";
import { child, children, el, parseXml, text, type XmlElement } from "./xml.ts";

export const QX_XMLNS = "https://quantix.example/xmlns/vm/1";

export interface ResolvedDisk {
  readonly path: string;
  readonly bus: "virtio" | "sata" | "scsi";
}

export interface ResolvedNic {
  readonly network: string;
  readonly bridge: string;
  readonly vlan?: number | undefined;
  readonly model: "virtio" | "e1000";
  readonly mac?: string | undefined;
}

/** A spec whose volumes, ISO and networks have been checked and turned into paths and bridges. */
export interface ResolvedVm {
  readonly spec: VmSpec;
  readonly uuid: string;
  /** `kvm` with hardware virtualization, `qemu` (TCG) without. */
  readonly type: "kvm" | "qemu";
  readonly disks: readonly ResolvedDisk[];
  readonly cdromPath?: string | undefined;
  readonly kernelPath?: string | undefined;
  readonly initrdPath?: string | undefined;
  readonly nics: readonly ResolvedNic[];
  readonly serialSocket: string;
  readonly vncSocket: string;
}

const BOOT_DEV = { disk: "hd", cdrom: "cdrom", network: "network" } as const;

function targets(disks: readonly ResolvedDisk[], cdrom: boolean): { disk: string[]; cdrom: string } {
  let vd = 0;
  let sd = 0;
  const letter = (n: number) => (n < 26 ? String.fromCharCode(97 + n) : `${String.fromCharCode(96 + Math.floor(n / 26))}${String.fromCharCode(97 + (n % 26))}`);
  const disk = disks.map((d) => (d.bus === "virtio" ? `vd${letter(vd++)}` : `sd${letter(sd++)}`));
  return { disk, cdrom: cdrom ? `sd${letter(sd)}` : "" };
}

/** The domain XML for `vm` (see the module comment). */
export function domainXml(vm: ResolvedVm): string {
  const { spec } = vm;
  const t = targets(vm.disks, vm.cdromPath !== undefined);
  const osChildren = [
    el("type", { arch: "x86_64", machine: "q35" }, "hvm"),
    vm.kernelPath ? el("kernel", {}, text(vm.kernelPath)) : null,
    vm.initrdPath ? el("initrd", {}, text(vm.initrdPath)) : null,
    vm.kernelPath && spec.kernel?.cmdline ? el("cmdline", {}, text(spec.kernel.cmdline)) : null,
    ...(vm.kernelPath ? [] : spec.boot.map((b) => el("boot", { dev: BOOT_DEV[b] }))),
  ];
  const disks = vm.disks.map((d, i) =>
    el(
      "disk",
      { type: "file", device: "disk" },
      el("driver", { name: "qemu", type: "raw", discard: "unmap" }),
      el("source", { file: d.path }),
      el("target", { dev: t.disk[i], bus: d.bus }),
    ),
  );
  const cdrom = vm.cdromPath
    ? el("disk", { type: "file", device: "cdrom" }, el("driver", { name: "qemu", type: "raw" }), el("source", { file: vm.cdromPath }), el("target", { dev: t.cdrom, bus: "sata" }), el("readonly"))
    : null;
  const nics = vm.nics.map((n) =>
    el(
      "interface",
      { type: "bridge" },
      n.mac ? el("mac", { address: n.mac }) : null,
      el("source", { bridge: n.bridge }),
      el("virtualport", { type: "openvswitch" }),
      n.vlan !== undefined ? el("vlan", {}, el("tag", { id: n.vlan })) : null,
      el("model", { type: n.model }),
    ),
  );
  const meta = el(
    "qx:vm",
    { "xmlns:qx": QX_XMLNS },
    ...vm.nics.map((n) => el("qx:nic", { network: n.network, ...(n.vlan !== undefined ? { vlan: n.vlan } : {}) })),
  );
  return el(
    "domain",
    { type: vm.type },
    el("name", {}, text(spec.name)),
    el("uuid", {}, text(vm.uuid)),
    spec.description ? el("description", {}, text(spec.description)) : null,
    el("metadata", {}, meta),
    el("memory", { unit: "MiB" }, text(spec.memory_mib)),
    el("vcpu", { placement: "static" }, text(spec.vcpus)),
    el("os", spec.firmware === "uefi" ? { firmware: "efi" } : {}, ...osChildren),
    el("features", {}, el("acpi"), el("apic")),
    vm.type === "kvm" ? el("cpu", { mode: "host-passthrough" }) : null,
    el("clock", { offset: "utc" }),
    el("on_poweroff", {}, "destroy"),
    el("on_reboot", {}, "restart"),
    el("on_crash", {}, "destroy"),
    el(
      "devices",
      {},
      ...disks,
      cdrom,
      vm.disks.some((d) => d.bus === "scsi") ? el("controller", { type: "scsi", model: "virtio-scsi" }) : null,
      ...nics,
      el("serial", { type: "unix" }, el("source", { mode: "bind", path: vm.serialSocket }), el("target", { port: 0 })),
      el("graphics", { type: "vnc", socket: vm.vncSocket }),
      el("video", {}, el("model", { type: "vga" })),
      el("memballoon", { model: "virtio" }),
    ),
  );
}

function mib(e: XmlElement | undefined): number {
  const n = Number(e?.text ?? 0);
  const unit = (e?.attrs["unit"] ?? "KiB").toLowerCase();
  const factor: Record<string, number> = { b: 1 / 1048576, bytes: 1 / 1048576, k: 1 / 1024, kib: 1 / 1024, kb: 1000 / 1048576, m: 1, mib: 1, mb: 1e6 / 1048576, g: 1024, gib: 1024, gb: 1e9 / 1048576 };
  return Math.round(n * (factor[unit] ?? 1 / 1024));
}

/** The volume name of `path` when it lies directly in the pool directory, else null. */
function volumeOf(path: string | undefined, poolDir: string): string | null {
  return path && dirname(path) === poolDir ? basename(path) : null;
}

const BOOT_NAME: Record<string, string> = { hd: "disk", cdrom: "cdrom", network: "network" };

/** The VM described by domain XML `xml`, with live `state` and `autostart`. */
export function parseDomain(xml: string, live: { state: VmState; autostart: boolean; poolDir: string }): VmInfo {
  const d = parseXml(xml);
  const devices = child(d, "devices");
  const os = child(d, "os");
  const meta = child(child(d, "metadata"), "qx:vm") ?? child(d, "metadata")?.children.find((c) => c.attrs["xmlns:qx"] === QX_XMLNS || c.name.endsWith(":vm"));
  const metaNics = (meta?.children ?? []).filter((c) => c.name.endsWith(":nic"));
  const diskEls = children(devices, "disk");
  const source = (e: XmlElement) => child(e, "source")?.attrs["file"] ?? child(e, "source")?.attrs["dev"];
  const cd = diskEls.find((e) => e.attrs["device"] === "cdrom");
  const cdPath = cd ? source(cd) : undefined;
  const firmware = os?.attrs["firmware"] === "efi" || child(os, "loader") !== undefined ? "uefi" : "bios";
  return {
    name: child(d, "name")?.text ?? "",
    uuid: child(d, "uuid")?.text ?? "",
    state: live.state,
    autostart: live.autostart,
    description: child(d, "description")?.text ?? null,
    vcpus: Number(child(d, "vcpu")?.text ?? 0),
    memory_mib: mib(child(d, "memory")),
    firmware,
    disks: diskEls
      .filter((e) => e.attrs["device"] === "disk")
      .map((e) => {
        const path = source(e) ?? "";
        return { volume: volumeOf(path, live.poolDir), path, bus: child(e, "target")?.attrs["bus"] ?? "", target: child(e, "target")?.attrs["dev"] ?? "" };
      }),
    cdrom: cd ? { volume: volumeOf(cdPath, live.poolDir), path: cdPath ?? null } : null,
    nics: children(devices, "interface").map((e, i) => {
      const tag = child(child(e, "vlan"), "tag")?.attrs["id"];
      return {
        network: metaNics[i]?.attrs["network"] ?? null,
        bridge: child(e, "source")?.attrs["bridge"] ?? null,
        vlan: tag !== undefined ? Number(tag) : null,
        mac: child(e, "mac")?.attrs["address"] ?? null,
        model: child(e, "model")?.attrs["type"] ?? null,
        port: child(e, "target")?.attrs["dev"] ?? null,
      };
    }),
    boot: child(os, "kernel") ? ["kernel"] : children(os, "boot").map((b) => BOOT_NAME[b.attrs["dev"] ?? ""] ?? b.attrs["dev"] ?? ""),
    console: {
      serial: children(devices, "serial").some((s) => s.attrs["type"] === "unix"),
      vnc: children(devices, "graphics").some((g) => g.attrs["type"] === "vnc"),
    },
  };
}

/** The unix socket paths of the serial console and VNC of a domain, from its XML. */
export function consoleSockets(xml: string): { serial: string | null; vnc: string | null } {
  const devices = child(parseXml(xml), "devices");
  const serial = children(devices, "serial").find((s) => s.attrs["type"] === "unix");
  const vnc = children(devices, "graphics").find((g) => g.attrs["type"] === "vnc" && g.attrs["socket"]);
  return { serial: child(serial, "source")?.attrs["path"] ?? null, vnc: vnc?.attrs["socket"] ?? null };
}

/** The files (disks, CD-ROM, kernel, initrd) a domain uses. */
export function domainFiles(xml: string): { disks: string[]; other: string[] } {
  const d = parseXml(xml);
  const diskEls = children(child(d, "devices"), "disk");
  const src = (e: XmlElement) => child(e, "source")?.attrs["file"];
  const os = child(d, "os");
  return {
    disks: diskEls.filter((e) => e.attrs["device"] === "disk").map(src).filter((p): p is string => !!p),
    other: [...diskEls.filter((e) => e.attrs["device"] !== "disk").map(src), child(os, "kernel")?.text, child(os, "initrd")?.text].filter((p): p is string => !!p),
  };
}
