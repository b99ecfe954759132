/**
 * @module virt/virt-services
 * The hypervisor surface qx-node serves, assembled: VMs (libvirt through virsh),
 * the storage pool on /data and the OVS bridges. {@link defaultVirt} is the node's;
 * {@link memoryVirt} is for API tests without libvirtd and ovsdb-server.
 *
 * Environment overrides (development and tests on a build host):
 * `QX_LIBVIRT_URI` (default qemu:///system), `QX_VIRT_ACCEL` (auto | kvm | qemu),
 * `QX_OVS_DB` (default: ovs-vsctl's), `QX_POOL_DIR` (default /data/volumes),
 * `QX_CONSOLE_DIR` (default /run/quantix/vms).
 */
import { join } from "node:path";
import { DATA_MOUNTPOINT } from "../services/data.ts";
import { memoryHypervisor } from "./memory-hypervisor.ts";
import { memoryOvs } from "./memory-ovs.ts";
import { type OvsBridges, ovsBridges } from "./ovs-bridges.ts";
import { type StoragePool, storagePool } from "./storage-pool.ts";
import { virshDriver } from "./virsh-driver.ts";
import { type VmService, vmService } from "./vm-service.ts";

export interface VirtServices {
  readonly vms: VmService;
  readonly pool: StoragePool;
  readonly ovs: OvsBridges;
  /** Filesystem root of network.yaml. */
  readonly root: string;
}

export const POOL_DIR = "/data/volumes";
export const CONSOLE_DIR = "/run/quantix/vms";

/** The node's VM stack (see the module comment for the environment overrides). */
export function defaultVirt(root: string, env: NodeJS.ProcessEnv = process.env): VirtServices {
  const accel = env["QX_VIRT_ACCEL"];
  const hypervisor = virshDriver({
    uri: env["QX_LIBVIRT_URI"] ?? "qemu:///system",
    accel: accel === "kvm" || accel === "qemu" ? accel : "auto",
  });
  // The node's pool must be on the mounted /data partition; a pool given for tests need not.
  const pool = env["QX_POOL_DIR"] ? storagePool(env["QX_POOL_DIR"]) : storagePool(join(root, POOL_DIR), root === "/" ? { requireMount: DATA_MOUNTPOINT } : {});
  const ovs = ovsBridges(env["QX_OVS_DB"] ? { db: env["QX_OVS_DB"] } : {});
  const vms = vmService({ hypervisor, pool, ovs, root, consoleDir: env["QX_CONSOLE_DIR"] ?? join(root, CONSOLE_DIR) });
  return { vms, pool, ovs, root };
}

/** In-memory hypervisor and switch, a real pool directory under `root` (API tests). */
export function memoryVirt(
  root: string,
  o: { hostMemoryMib?: number } = {},
): VirtServices & { hypervisor: ReturnType<typeof memoryHypervisor>; ovs: ReturnType<typeof memoryOvs> } {
  const hypervisor = memoryHypervisor();
  const pool = storagePool(join(root, POOL_DIR));
  const ovs = memoryOvs();
  const vms = vmService({
    hypervisor,
    pool,
    ovs,
    root,
    consoleDir: join(root, CONSOLE_DIR),
    ...(o.hostMemoryMib ? { hostMemoryMib: () => o.hostMemoryMib as number } : {}),
  });
  return { vms, pool, ovs, root, hypervisor };
}
