/**
 * @module api/console
 * `GET /api/v1/console/summary`: what the console on tty1 shows. Registered on the
 * root-only unix socket alone, never on the network listener.
 */
import type { FastifyInstance } from "fastify";
import type { NodeContext } from "../context.ts";
import type { NodeCertificate } from "../services/certificate.ts";
import { consoleSummary } from "../services/summary.ts";

export function consoleRoutes(
  app: FastifyInstance,
  ctx: NodeContext,
  server: { readonly port: number; readonly certificate: NodeCertificate },
): void {
  app.get("/api/v1/console/summary", async () => consoleSummary(ctx, server));
}
