/**
 * @module api/web
 * Serves the web UI at `/` on the HTTPS listener: a few static files held in memory,
 * gzipped once at start, with an ETag and a strict Content-Security-Policy (scripts,
 * styles and requests only from the node itself; no framing).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { FastifyInstance } from "fastify";
import type { WebAssets } from "../web-assets.ts";

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function webRoutes(app: FastifyInstance, assets: WebAssets): void {
  for (const [path, asset] of Object.entries(assets)) {
    const raw = Buffer.from(asset.body);
    const gz = gzipSync(raw, { level: 9 });
    const etag = `"${createHash("sha256").update(raw).digest("base64url").slice(0, 22)}"`;
    const handler = async (req: import("fastify").FastifyRequest, reply: import("fastify").FastifyReply) => {
      reply
        .header("content-type", asset.type)
        .header("cache-control", "no-cache")
        .header("etag", etag)
        .header("content-security-policy", CSP)
        .header("x-frame-options", "DENY")
        .header("vary", "accept-encoding");
      if (req.headers["if-none-match"] === etag) return reply.code(304).send();
      if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) return reply.header("content-encoding", "gzip").send(gz);
      return reply.send(raw);
    };
    app.get(path, handler);
    if (path === "/index.html") app.get("/", handler);
  }
}
