/**
 * @module api/node
 *   GET /api/v1/node   read    id, hostname, version, slot, uptime, CPU, memory, KVM/IOMMU, certificate
 *   PUT /api/v1/node   admin   rename the node (node.yaml and the running hostname)
 *   GET /api/v1/node/join   admin   the cluster join settings stored in node.yaml (the token is a secret)
 *   PUT /api/v1/node/join   admin   store control plane URL, join token, CA pin (the join protocol is pending)
 */
import { Hostname } from "@quantix/core";
import { z } from "zod";
import type { NodeContext } from "../context.ts";
import { JoinSettings, JoinSettingsInput, readJoinSettings, saveJoinSettings } from "../services/join-settings.ts";
import { NodeInfo, type NodeInfoCache } from "../services/node-info.ts";
import { renameNode } from "../services/rename.ts";
import { type Api, route } from "./route.ts";

export function nodeRoutes(api: Api, ctx: NodeContext, info: NodeInfoCache): void {
  route(api, {
    method: "GET",
    url: "/api/v1/node",
    scope: "read",
    tag: "node",
    summary: "The node: identity, version, booted slot, resources, virtualization support, certificate fingerprint",
    response: NodeInfo,
    handler: async () => info.get(),
  });

  route(api, {
    method: "PUT",
    url: "/api/v1/node",
    scope: "admin",
    tag: "node",
    summary: "Rename the node (node.yaml and the running host name)",
    body: z.object({ hostname: Hostname }).strict(),
    response: z.object({ hostname: z.string(), changed: z.array(z.string()) }),
    handler: async ({ body, req }) => {
      const changed = await renameNode(ctx, body.hostname);
      info.invalidate();
      req.log.info({ hostname: body.hostname, changed }, "node renamed");
      return { hostname: body.hostname, changed };
    },
  });

  route(api, {
    method: "GET",
    url: "/api/v1/node/join",
    scope: "admin",
    tag: "node",
    summary: "The cluster join settings stored in node.yaml (joining itself is pending: a later release)",
    response: JoinSettings,
    handler: async () => readJoinSettings(ctx.root),
  });

  route(api, {
    method: "PUT",
    url: "/api/v1/node/join",
    scope: "admin",
    tag: "node",
    summary: "Store the control plane URL, join token and CA pin in node.yaml (the node does not join yet)",
    description:
      "The token has the form <id>.<secret> (lowercase letters and digits), the CA pin sha256:<64 hex digits>. " +
      "Comments in node.yaml are kept. The join protocol is not implemented yet: `protocol` answers `pending`.",
    body: JoinSettingsInput,
    response: JoinSettings,
    errors: { 409: "node.yaml is broken: fix or restore it first" },
    handler: async ({ body, req }) => {
      const saved = await saveJoinSettings(ctx.root, body);
      req.log.info({ cluster_url: body.cluster_url, ca_pin: Boolean(body.ca_pin) }, "cluster join settings stored");
      return saved;
    },
  });
}
