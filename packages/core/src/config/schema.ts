/**
 * @module config/schema
 * Schemas of the persistent configuration in `/quantix` and of the image defaults in
 * `/etc/quantix/defaults.yaml`. One definition serves validation, the API and its
 * OpenAPI document (zod → JSON Schema).
 *
 * @example
 * ```ts
 * NetworkConfig.parse({ management: { interface: "eth0", mode: "dhcp" } });
 * ```
 */
import { z } from "zod";

/** RFC 1123 host name label (what `hostname` accepts for a node). */
export const Hostname = z
  .string()
  .regex(/^(?!-)[a-z0-9-]{1,63}(?<!-)$/, "expected a host name: 1-63 lowercase letters, digits or '-', not starting or ending with '-'");

export const InterfaceName = z
  .string()
  .regex(/^(auto|[A-Za-z0-9_.:-]{1,15})$/, "expected a network interface name (up to 15 characters) or 'auto'");

export const Ipv4 = z.ipv4({ message: "expected an IPv4 address such as 192.168.1.1" });
export const Ipv4Cidr = z.cidrv4({ message: "expected an IPv4 address in CIDR form such as 192.168.1.100/24" });

/** Join token: `<id>.<secret>`, lowercase letters and digits (kubeadm-style). */
export const JoinToken = z
  .string()
  .regex(/^[a-z0-9]{4,32}\.[a-z0-9]{5,64}$/, "expected a join token of the form xxxx.xxxxxxxx (lowercase letters and digits)");

export const ClusterUrl = z
  .url({ protocol: /^https$/, message: "expected an https:// URL such as https://control-plane.example.com:6443" });

/** `sha256:<64 hex>` pin of the control plane's CA certificate. */
export const CaPin = z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected sha256:<64 lowercase hex digits>");

export const UpdateSettings = z
  .object({
    /** Accept images without a valid signature. Off unless set here explicitly. */
    allow_unsigned: z.boolean().default(false),
    /**
     * Accept a signed image older than the running version. Off: an old signed image
     * with a known hole must not be installable by whoever holds it. Rolling back to
     * the other, already installed slot is always allowed.
     */
    allow_downgrade: z.boolean().default(false),
    /** Seconds a new slot has to pass its health gate. */
    health_timeout: z.number().int().min(60).max(3600).default(300),
    /** Boots a new slot gets before GRUB falls back. */
    max_tries: z.number().int().min(1).max(9).default(3),
    /**
     * Seconds the hardware watchdog gives a trial boot to reach mark-good before it
     * resets the machine (a hang counts as a failed try). Written into the boot
     * environment by each install; must exceed health_timeout plus the boot itself.
     */
    watchdog_timeout: z.number().int().min(60).max(3600).default(420),
  })
  .strict();

export const SshSettings = z.object({ enabled: z.boolean().default(false) }).strict();

/** `/quantix/node.yaml`. */
export const NodeConfig = z
  .object({
    node_id: z.uuid({ message: "expected a UUID such as 550e8400-e29b-41d4-a716-446655440000" }),
    hostname: Hostname,
    cluster_url: ClusterUrl.optional(),
    join_token: JoinToken.optional(),
    ca_pin: CaPin.optional(),
    update: UpdateSettings.optional(),
    ssh: SshSettings.optional(),
  })
  .strict();
export type NodeConfig = z.infer<typeof NodeConfig>;

function ipToInt(ip: string): number {
  return ip.split(".").reduce((n, o) => n * 256 + Number(o), 0);
}

/** True when `ip` is inside the subnet of `cidr`. */
export function inSubnet(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split("/");
  const bits = Number(bitsText);
  if (!net || !Number.isInteger(bits)) return false;
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(net) & mask) >>> 0);
}

/** An Open vSwitch bridge or VM network name (also a kernel interface name for bridges: at most 15 characters). */
export const OvsName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,14}$/, "expected 1-15 lowercase letters, digits, '-' or '_', starting with a letter");

export const ManagementNetwork = z
  .object({
    interface: InterfaceName.default("auto"),
    mode: z.enum(["dhcp", "static"], { message: "expected dhcp or static" }).default("dhcp"),
    address: Ipv4Cidr.optional(),
    gateway: Ipv4.optional(),
    dns: z.array(Ipv4).max(3, "at most 3 DNS servers").optional(),
    vlan: z.number().int().min(1, "VLAN tag must be 1..4094").max(4094, "VLAN tag must be 1..4094").optional(),
    /**
     * The Open vSwitch bridge (declared under `bridges:`) that the management port joins;
     * the address goes on the bridge (or on its internal port `<bridge>.<vlan>` with a
     * VLAN), so VMs share the port with management, as vSwitch0 on ESXi or vmbr0 on Proxmox.
     * Absent: the address goes on the port itself.
     */
    bridge: OvsName.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (m.bridge && m.vlan !== undefined && `${m.bridge}.${m.vlan}`.length > 15) {
      ctx.addIssue({ code: "custom", path: ["bridge"], message: `${m.bridge}.${m.vlan} (the management port on the bridge) is longer than 15 characters: use a shorter bridge name` });
    }
    if (m.mode === "static" && !m.address) {
      ctx.addIssue({ code: "custom", path: ["address"], message: "required when mode is static" });
    }
    if (m.mode === "static" && m.address && m.gateway && !inSubnet(m.gateway, m.address)) {
      ctx.addIssue({ code: "custom", path: ["gateway"], message: `gateway ${m.gateway} is outside ${m.address}` });
    }
  });
export type ManagementNetwork = z.infer<typeof ManagementNetwork>;

/** An 802.1Q VLAN tag. */
export const VlanTag = z.number().int().min(1, "VLAN tag must be 1..4094").max(4094, "VLAN tag must be 1..4094");


/** An Open vSwitch bridge for VM traffic, with its physical uplinks (none: VMs on it talk only to each other). */
export const OvsBridge = z
  .object({
    name: OvsName,
    uplinks: z.array(InterfaceName.refine((n) => n !== "auto", "name the uplink interface (auto is not allowed here)")).max(8).default([]),
    /** `system` (kernel datapath, the default) or `netdev` (userspace; no kernel module needed). */
    datapath: z.enum(["system", "netdev"], { message: "expected system or netdev" }).default("system"),
  })
  .strict();
export type OvsBridge = z.infer<typeof OvsBridge>;

/** A VM network: a bridge plus an optional VLAN tag that every VM port on it gets (access port). */
export const VmNetwork = z
  .object({
    name: OvsName,
    bridge: OvsName,
    vlan: VlanTag.optional(),
  })
  .strict();
export type VmNetwork = z.infer<typeof VmNetwork>;

/** `/quantix/network.yaml`. */
export const NetworkConfig = z
  .object({
    management: ManagementNetwork,
    /** Open vSwitch bridges, reconciled from this file at boot and on change (the YAML is the single truth). */
    bridges: z.array(OvsBridge).max(32).optional(),
    /** VM networks on those bridges. */
    networks: z.array(VmNetwork).max(512).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const bridges = new Set<string>();
    for (const [i, b] of (c.bridges ?? []).entries()) {
      if (bridges.has(b.name)) ctx.addIssue({ code: "custom", path: ["bridges", i, "name"], message: `bridge ${b.name} is declared twice` });
      bridges.add(b.name);
    }
    const nets = new Set<string>();
    for (const [i, n] of (c.networks ?? []).entries()) {
      if (nets.has(n.name)) ctx.addIssue({ code: "custom", path: ["networks", i, "name"], message: `network ${n.name} is declared twice` });
      nets.add(n.name);
      if (!bridges.has(n.bridge)) ctx.addIssue({ code: "custom", path: ["networks", i, "bridge"], message: `no bridge named ${n.bridge} under bridges:` });
    }
    const mb = c.management.bridge;
    if (mb && !bridges.has(mb)) {
      ctx.addIssue({ code: "custom", path: ["management", "bridge"], message: `no bridge named ${mb} under bridges: declare it there, or remove management.bridge` });
    }
    const port = c.management.interface;
    const other = (c.bridges ?? []).find((b) => b.name !== mb && b.uplinks.includes(port));
    if (mb && other) {
      ctx.addIssue({ code: "custom", path: ["management", "interface"], message: `${port} is an uplink of bridge ${other.name}; it cannot also join ${mb}` });
    }
  });
export type NetworkConfig = z.infer<typeof NetworkConfig>;

/** `/etc/quantix/defaults.yaml` in the image: what a node uses before /quantix says otherwise. */
export const Defaults = z
  .object({
    node: z.object({ hostname_prefix: z.string().regex(/^[a-z][a-z0-9-]{0,40}$/, "expected a lowercase prefix") }).strict(),
    network: NetworkConfig,
    update: UpdateSettings,
    ssh: SshSettings,
    api: z
      .object({
        port: z.number().int().min(1).max(65535),
      })
      .strict(),
  })
  .strict();
export type Defaults = z.infer<typeof Defaults>;
