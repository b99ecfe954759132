/**
 * @module api/node
 *   GET /api/v1/node   read    id, hostname, version, slot, uptime, CPU, memory, KVM/IOMMU, certificate
 *   PUT /api/v1/node   admin   rename the node (node.yaml and the running hostname)
 */
import { Hostname } from "@quantix/core";
import { z } from "zod";
import type { NodeContext } from "../context.ts";
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
}
