/**
 * @module api/health
 * `GET /api/v1/health`: 200 with the health document when every component is
 * healthy, 503 with the same document (naming the failing components) otherwise.
 */
import type { FastifyInstance } from "fastify";
import type { HealthService } from "../services/health.ts";

export function healthRoutes(app: FastifyInstance, health: HealthService): void {
  app.get("/api/v1/health", async (_req, reply) => {
    const doc = await health.get();
    return reply.code(doc.status === "healthy" ? 200 : 503).send(doc);
  });
}
