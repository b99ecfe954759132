/**
 * @module api/health
 * `GET /api/v1/health`: 200 when every component is healthy, 503 otherwise.
 *
 * Without a credential the answer says only the overall state and the names of the
 * failing components (what a load balancer or a monitoring probe needs); versions,
 * the boot slot, devices and each component's detail are for a `read` credential or
 * better (and for the unix socket). An unauthenticated caller must not learn which
 * QEMU or libvirt is running, to look up its holes.
 */
import { z } from "zod";
import type { HealthService } from "../services/health.ts";
import { type Api, route } from "./route.ts";

export const PublicHealth = z.object({
  status: z.enum(["healthy", "degraded"]),
  checkedAt: z.string(),
  failing: z.array(z.string()).describe("names of the failing components"),
});

export function healthRoutes(api: Api, health: HealthService): void {
  route(api, {
    method: "GET",
    url: "/api/v1/health",
    scope: "public",
    tag: "node",
    summary: "Health of the node: 200 healthy, 503 degraded; with a credential, every component's detail, versions and the boot slot",
    response: PublicHealth.describe("without a credential; with one, also version, slot and components"),
    errors: { 503: "degraded (the same document, naming the failing components)" },
    handler: async ({ principal, reply }) => {
      const doc = await health.get();
      reply.code(doc.status === "healthy" ? 200 : 503);
      return principal ? doc : { status: doc.status, checkedAt: doc.checkedAt, failing: doc.failing };
    },
  });
}
