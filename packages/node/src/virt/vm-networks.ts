/**
 * @module virt/vm-networks
 * The VM networks and bridges of network.yaml: reading them, changing them (the file
 * is rewritten with its comments kept, then OVS is reconciled), and resolving a
 * NIC's network to a bridge and VLAN.
 */
import { Mutex, type NetworkConfig, networkConfigFile, type OvsBridge, type VmNetwork } from "@quantix/core";
import type { OvsBridges } from "./ovs-bridges.ts";
import { VirtExistsError, VirtNotFoundError, VirtRequestError, VirtStateError } from "./errors.ts";

/** The bridges and networks in force (file, else its last good copy, else none). */
export async function loadVmNetworks(root: string): Promise<{ bridges: OvsBridge[]; networks: VmNetwork[]; error: string | null }> {
  const r = await networkConfigFile(root).loadWithFallback();
  return { bridges: r.value?.bridges ?? [], networks: r.value?.networks ?? [], error: r.error?.message ?? null };
}

/** One change of the bridges and networks at a time (each checks what the one before it wrote). */
const edits = new Mutex();

async function edit(root: string, change: (c: { bridges: OvsBridge[]; networks: VmNetwork[]; managementBridge: string | null }) => void): Promise<NetworkConfig> {
  return edits.run(async () => {
    const file = networkConfigFile(root);
    const current = await file.load().catch(() => null);
    const next = { bridges: [...(current?.bridges ?? [])], networks: [...(current?.networks ?? [])], managementBridge: current?.management.bridge ?? null };
    change(next);
    return file.update((doc) => {
      if (!doc.get(["management"])) doc.set(["management"], { interface: "auto", mode: "dhcp" });
      doc.set(["bridges"], next.bridges);
      doc.set(["networks"], next.networks);
    });
  });
}

export function addNetwork(root: string, n: VmNetwork): Promise<NetworkConfig> {
  return edit(root, (c) => {
    if (c.networks.some((x) => x.name === n.name)) throw new VirtExistsError("network", n.name);
    if (!c.bridges.some((b) => b.name === n.bridge)) throw new VirtRequestError("bridge", `no bridge named ${n.bridge}; add it first (POST /api/v1/networks/bridges)`);
    c.networks.push(n);
  });
}

export function removeNetwork(root: string, name: string): Promise<NetworkConfig> {
  return edit(root, (c) => {
    if (!c.networks.some((x) => x.name === name)) throw new VirtNotFoundError("network", name);
    c.networks = c.networks.filter((x) => x.name !== name);
  });
}

export function addBridge(root: string, b: OvsBridge): Promise<NetworkConfig> {
  return edit(root, (c) => {
    if (c.bridges.some((x) => x.name === b.name)) throw new VirtExistsError("bridge", b.name);
    const taken = c.bridges.find((x) => x.uplinks.some((u) => b.uplinks.includes(u)));
    if (taken) throw new VirtRequestError("uplinks", `an uplink is already on bridge ${taken.name}`);
    c.bridges.push(b);
  });
}

export function removeBridge(root: string, name: string): Promise<NetworkConfig> {
  return edit(root, (c) => {
    if (!c.bridges.some((x) => x.name === name)) throw new VirtNotFoundError("bridge", name);
    if (c.managementBridge === name) throw new VirtStateError(`bridge ${name} carries the management network (management.bridge in network.yaml): move management off it first`);
    const users = c.networks.filter((n) => n.bridge === name).map((n) => n.name);
    if (users.length > 0) throw new VirtStateError(`bridge ${name} carries networks ${users.join(", ")}: delete them first`);
    c.bridges = c.bridges.filter((x) => x.name !== name);
  });
}

/**
 * Makes Open vSwitch match the bridges of network.yaml (boot service quantix-vswitch,
 * `qx-node reconcile-networks`); returns the operations run, empty when nothing changed.
 */
export async function reconcileBridges(root: string, ovs: OvsBridges): Promise<string[][]> {
  const { bridges, error } = await loadVmNetworks(root);
  if (error && bridges.length === 0) throw new VirtRequestError("network.yaml", error);
  return ovs.reconcile(bridges);
}
