/**
 * @module api/networks
 *   GET    /api/v1/networks                  read    bridges (declared and live) and VM networks (with their VMs)
 *   POST   /api/v1/networks                  admin   { name, bridge, vlan? } add a VM network to network.yaml (201)
 *   DELETE /api/v1/networks/:name            admin   refused while a VM has a NIC on it
 *   POST   /api/v1/networks/bridges          admin   { name, uplinks?, datapath? } add an OVS bridge (201)
 *   DELETE /api/v1/networks/bridges/:name    admin   refused while a network is on it
 *   POST   /api/v1/networks/reconcile        admin   make OVS match network.yaml again (also done at boot)
 *
 * network.yaml is the single truth: every change is written there first (comments
 * kept), then Open vSwitch is reconciled from it and running VMs' ports retagged.
 */
import { OvsBridge, OvsName, VmNetwork } from "@quantix/core";
import { z } from "zod";
import { VirtStateError } from "../virt/errors.ts";
import type { VirtServices } from "../virt/virt-services.ts";
import { addBridge, addNetwork, loadVmNetworks, removeBridge, removeNetwork } from "../virt/vm-networks.ts";
import { type Api, pathParams, route } from "./route.ts";

const Name = pathParams({ name: OvsName });
const Reconciled = z.object({ operations: z.array(z.array(z.string())), retagged: z.array(z.string()) });

export function networksRoutes(api: Api, virt: VirtServices): void {
  const { root, ovs, vms } = virt;
  const reconcile = async () => {
    const { bridges } = await loadVmNetworks(root);
    const operations = await ovs.reconcile(bridges);
    const retagged = await vms.retagPorts();
    return { operations, retagged };
  };

  route(api, {
    method: "GET",
    url: "/api/v1/networks",
    scope: "read",
    tag: "networks",
    summary: "OVS bridges and VM networks: as declared in network.yaml, and what Open vSwitch has",
    response: z.object({
      bridges: z.array(OvsBridge.extend({ present: z.boolean().nullable(), ports: z.array(z.string()) })),
      networks: z.array(VmNetwork.extend({ vms: z.array(z.string()) })),
      config_error: z.string().nullable(),
      ovs_error: z.string().nullable(),
    }),
    handler: async () => {
      const { bridges, networks, error } = await loadVmNetworks(root);
      const [live, users] = await Promise.all([ovs.state().then((s) => ({ s, e: null }), (e: Error) => ({ s: null, e: e.message })), vms.networkUsers().catch(() => new Map<string, string[]>())]);
      return {
        bridges: bridges.map((b) => {
          const l = live.s?.bridges.find((x) => x.name === b.name);
          return { ...b, present: live.s ? l !== undefined : null, ports: l?.ports ?? [] };
        }),
        networks: networks.map((n) => ({ ...n, vms: users.get(n.name) ?? [] })),
        config_error: error,
        ovs_error: live.e,
      };
    },
  });
  route(api, {
    method: "POST",
    url: "/api/v1/networks",
    scope: "admin",
    tag: "networks",
    summary: "Add a VM network (a bridge plus an optional VLAN tag) to network.yaml",
    body: VmNetwork,
    response: Reconciled,
    status: 201,
    errors: { 409: "a network of that name exists", 503: "Open vSwitch is not running" },
    handler: async ({ body }) => {
      await addNetwork(root, body);
      return reconcile();
    },
  });
  route(api, {
    method: "POST",
    url: "/api/v1/networks/bridges",
    scope: "admin",
    tag: "networks",
    summary: "Add an Open vSwitch bridge (with uplinks) to network.yaml and create it",
    body: OvsBridge,
    response: Reconciled,
    status: 201,
    errors: { 409: "a bridge of that name exists", 503: "Open vSwitch is not running" },
    handler: async ({ body }) => {
      await addBridge(root, body);
      return reconcile();
    },
  });
  route(api, {
    method: "POST",
    url: "/api/v1/networks/reconcile",
    scope: "admin",
    tag: "networks",
    summary: "Make Open vSwitch match network.yaml (idempotent; the boot service does the same)",
    response: Reconciled,
    errors: { 503: "Open vSwitch is not running" },
    handler: async () => reconcile(),
  });
  route(api, {
    method: "DELETE",
    url: "/api/v1/networks/bridges/:name",
    scope: "admin",
    tag: "networks",
    summary: "Remove a bridge no network uses",
    params: Name,
    response: Reconciled,
    errors: { 404: "no such bridge", 409: "a network is on it" },
    handler: async ({ params }) => {
      await removeBridge(root, params.name);
      return reconcile();
    },
  });
  route(api, {
    method: "DELETE",
    url: "/api/v1/networks/:name",
    scope: "admin",
    tag: "networks",
    summary: "Remove a VM network no VM uses",
    params: Name,
    response: Reconciled,
    errors: { 404: "no such network", 409: "a VM has a NIC on it" },
    handler: async ({ params }) => {
      const users = (await vms.networkUsers()).get(params.name) ?? [];
      if (users.length > 0) throw new VirtStateError(`VM ${users.join(", ")} has a NIC on network ${params.name}: change or delete it first`);
      await removeNetwork(root, params.name);
      return reconcile();
    },
  });
}
