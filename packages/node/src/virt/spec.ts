/**
 * @module virt/spec
 * What a VM is made of, as the API accepts it (zod schemas, also its OpenAPI
 * document) and as it reports it. Names are restricted so that they are safe as
 * libvirt names, file names and XML text at once: no `/`, no `..`, no quotes.
 *
 * @example
 * ```ts
 * VmSpec.parse({ name: "web-1", vcpus: 2, memory_mib: 2048, disks: [{ volume: "web-1-root", size_mib: 20480 }], nics: [{ network: "lan" }] });
 * ```
 */
import { OvsName, VlanTag } from "@quantix/core";
import { z } from "zod";

/** A VM name: libvirt domain name and part of file names. */
export const VmName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "expected 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit")
  .refine((s) => !s.includes(".."), "must not contain '..'");

/** A volume (file) name in the storage pool. */
export const VolumeName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "expected 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit")
  .refine((s) => !s.includes("..") && !s.endsWith(".partial"), "must not contain '..' or end in .partial");

/** A MAC address; the first octet must be unicast. */
export const MacAddress = z
  .string()
  .regex(/^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/, "expected a unicast MAC address such as 52:54:00:12:34:56 (lowercase)");

export const MAX_VCPUS = 256;
export const MAX_DISKS = 16;
export const MAX_NICS = 16;
/** Largest volume the API creates: 64 TiB. */
export const MAX_VOLUME_MIB = 64 * 1024 * 1024;

export const DiskSpec = z
  .object({
    volume: VolumeName,
    /** Create the volume with this size (MiB); without it, the volume must exist. */
    size_mib: z.number().int().min(1, "at least 1 MiB").max(MAX_VOLUME_MIB, "at most 64 TiB").optional(),
    bus: z.enum(["virtio", "sata", "scsi"], { message: "expected virtio, sata or scsi" }).default("virtio"),
  })
  .strict();
export type DiskSpec = z.infer<typeof DiskSpec>;

export const NicSpec = z
  .object({
    network: OvsName,
    /** A VLAN for this NIC; only on networks without a VLAN of their own. */
    vlan: VlanTag.optional(),
    model: z.enum(["virtio", "e1000"], { message: "expected virtio or e1000" }).default("virtio"),
    mac: MacAddress.optional(),
  })
  .strict();
export type NicSpec = z.infer<typeof NicSpec>;

export const BootDevice = z.enum(["disk", "cdrom", "network"], { message: "expected disk, cdrom or network" });

/** Direct kernel boot (a kernel and initramfs from the pool); mostly for appliances and tests. */
export const KernelBoot = z
  .object({
    kernel: VolumeName,
    initrd: VolumeName.optional(),
    cmdline: z
      .string()
      .max(1024)
      .regex(/^[\x20-\x7e]*$/, "printable ASCII only")
      .default(""),
  })
  .strict();

export const VmSpec = z
  .object({
    name: VmName,
    description: z.string().max(500).regex(/^[^\p{Cc}]*$/u, "no control characters").optional(),
    vcpus: z.number().int().min(1).max(MAX_VCPUS, `at most ${MAX_VCPUS}`).default(1),
    memory_mib: z.number().int().min(16, "at least 16 MiB").max(16 * 1024 * 1024, "at most 16 TiB"),
    firmware: z.enum(["bios", "uefi"], { message: "expected bios or uefi" }).default("bios"),
    disks: z.array(DiskSpec).max(MAX_DISKS).default([]),
    /** An ISO volume attached as a CD-ROM. */
    cdrom: VolumeName.optional(),
    nics: z.array(NicSpec).max(MAX_NICS).default([]),
    boot: z.array(BootDevice).min(1).max(3).default(["disk", "cdrom"]),
    kernel: KernelBoot.optional(),
    autostart: z.boolean().default(false),
    /** Start the VM once it is defined. */
    start: z.boolean().default(false),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    for (const [i, d] of s.disks.entries()) {
      if (seen.has(d.volume)) ctx.addIssue({ code: "custom", path: ["disks", i, "volume"], message: `volume ${d.volume} is used twice` });
      seen.add(d.volume);
    }
    if (s.cdrom && seen.has(s.cdrom)) ctx.addIssue({ code: "custom", path: ["cdrom"], message: `volume ${s.cdrom} is also a disk` });
    if (new Set(s.boot).size !== s.boot.length) ctx.addIssue({ code: "custom", path: ["boot"], message: "a device is listed twice" });
    const macs = s.nics.map((n) => n.mac).filter(Boolean);
    if (new Set(macs).size !== macs.length) ctx.addIssue({ code: "custom", path: ["nics"], message: "two NICs have the same MAC address" });
  });
export type VmSpec = z.infer<typeof VmSpec>;

export const VmState = z.enum(["running", "paused", "shutting-down", "shutoff", "crashed", "suspended", "unknown"]);
export type VmState = z.infer<typeof VmState>;

/** A VM as the API reports it: the spec parsed back from libvirt's XML plus live state. */
export const VmInfo = z.object({
  name: z.string(),
  uuid: z.string(),
  state: VmState,
  autostart: z.boolean(),
  description: z.string().nullable(),
  vcpus: z.number(),
  memory_mib: z.number(),
  firmware: z.enum(["bios", "uefi"]),
  disks: z.array(z.object({ volume: z.string().nullable(), path: z.string(), bus: z.string(), target: z.string() })),
  cdrom: z.object({ volume: z.string().nullable(), path: z.string().nullable() }).nullable(),
  nics: z.array(
    z.object({ network: z.string().nullable(), bridge: z.string().nullable(), vlan: z.number().nullable(), mac: z.string().nullable(), model: z.string().nullable(), port: z.string().nullable() }),
  ),
  boot: z.array(z.string()),
  console: z.object({ serial: z.boolean(), vnc: z.boolean() }),
});
export type VmInfo = z.infer<typeof VmInfo>;
