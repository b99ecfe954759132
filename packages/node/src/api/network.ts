/**
 * @module api/network
 *   GET  /api/v1/network          read    network.yaml, what the kernel has, the trial
 *   PUT  /api/v1/network          admin   new management settings, applied on trial (202)
 *   GET  /api/v1/network/interfaces  read  the NICs with their link state (to pick the management interface)
 *   GET  /api/v1/network/trial    read    the trial: applying | pending (deadline) | confirmed | reverted | failed
 *   POST /api/v1/network/confirm  admin   keep the change; must arrive over the new address
 */
import { ManagementNetwork, NetworkConfig, networkConfigFile } from "@quantix/core";
import { z } from "zod";
import { Interface, listInterfaces } from "../services/interfaces.ts";
import { type NetworkTrial, TrialState, type NetworkApplier } from "../services/network-try.ts";
import { type Api, route } from "./route.ts";

const Shown = z.object({
  interface: z.string().nullable(),
  base: z.string().nullable(),
  vlan: z.number().nullable(),
  mode: z.enum(["dhcp", "static"]).nullable(),
  address: z.string().nullable(),
  gateway: z.string().nullable(),
  dns: z.array(z.string()),
  state: z.string().nullable(),
});

export function networkRoutes(api: Api, o: { root: string; trial: NetworkTrial; applier: NetworkApplier; local: boolean }): void {
  route(api, {
    method: "GET",
    url: "/api/v1/network",
    scope: "read",
    tag: "network",
    summary: "The management network: configured (network.yaml), applied (kernel), and any change on trial",
    response: z.object({
      config: NetworkConfig.nullable(),
      configError: z.string().nullable(),
      applied: Shown.nullable(),
      trial: TrialState,
    }),
    handler: async () => {
      const [loaded, applied] = await Promise.all([networkConfigFile(o.root).loadWithFallback(), o.applier.show().catch(() => null)]);
      return { config: loaded.value, configError: loaded.error?.message ?? null, applied, trial: o.trial.status() };
    },
  });

  route(api, {
    method: "PUT",
    url: "/api/v1/network",
    scope: "admin",
    tag: "network",
    summary: "Change the management network on trial: it reverts after 120 s unless confirmed from the new address",
    description:
      "Answers 202 before applying. Reconnect to the new address and POST /api/v1/network/confirm there within the " +
      "deadline, or the previous settings come back by themselves. Comments in network.yaml are kept.",
    body: ManagementNetwork,
    response: TrialState,
    status: 202,
    errors: { 409: "another change is on trial" },
    handler: async ({ body }) => o.trial.start(body),
  });

  route(api, {
    method: "GET",
    url: "/api/v1/network/interfaces",
    scope: "read",
    tag: "network",
    summary: "The node's network interfaces (Ethernet NICs) with link state, carrier, MAC and speed",
    response: z.object({ interfaces: z.array(Interface) }),
    handler: async () => ({ interfaces: await listInterfaces(o.root) }),
  });

  route(api, {
    method: "GET",
    url: "/api/v1/network/trial",
    scope: "read",
    tag: "network",
    summary: "The network change on trial, if any",
    response: TrialState,
    handler: async () => o.trial.status(),
  });

  route(api, {
    method: "POST",
    url: "/api/v1/network/confirm",
    scope: "admin",
    tag: "network",
    summary: "Keep the network change on trial (only over the new address, or from the node's console)",
    response: TrialState,
    errors: { 409: "nothing to confirm, or the request did not arrive over the new address" },
    handler: async ({ req }) => o.trial.confirm(o.local ? null : (req.socket.localAddress ?? "")),
  });
}
