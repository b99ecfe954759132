/**
 * @module api/power
 *   POST /api/v1/power   admin   { action: "reboot" | "shutdown", confirm: "<the node's hostname>" } → 202
 *
 * The confirmation is the node's host name, typed by the admin, so a script or a
 * stray click aimed at another node does nothing.
 */
import { nodeConfigFile } from "@quantix/core";
import { z } from "zod";
import type { NodeContext } from "../context.ts";
import type { PowerControl } from "../services/power.ts";
import { ValidationError } from "./http-errors.ts";
import { type Api, route } from "./route.ts";

export function powerRoutes(api: Api, ctx: NodeContext, control: PowerControl): void {
  route(api, {
    method: "POST",
    url: "/api/v1/power",
    scope: "admin",
    tag: "power",
    summary: "Reboot or shut down the node (confirm with its host name)",
    body: z
      .object({
        action: z.enum(["reboot", "shutdown"], { message: "expected reboot or shutdown" }),
        confirm: z.string().max(63).describe("the node's host name"),
      })
      .strict(),
    response: z.object({ action: z.enum(["reboot", "shutdown"]), at: z.string() }),
    status: 202,
    handler: async ({ body, req }) => {
      const hostname = (await nodeConfigFile(ctx.root).loadWithFallback()).value?.hostname ?? ctx.hostname();
      if (body.confirm !== hostname) throw new ValidationError("body.confirm", `type the node's host name (${hostname}) to confirm`);
      req.log.warn({ action: body.action }, "power action requested");
      return control.request(body.action);
    },
  });
}
