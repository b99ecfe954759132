/**
 * @module api/web
 * Serves the web UI at `/` on the HTTPS listener: a few static files held in memory,
 * gzipped once, with an ETag and a strict Content-Security-Policy (scripts, styles and
 * requests only from the node itself; no framing).
 *
 * The files may be given as a loader: they are then loaded and gzipped on the first
 * request for one, so a node nobody browses to does not hold them (in the image they
 * are a chunk of the qx-node bundle, see scripts/bundle.mjs).
 */
import { createHash } from "node:crypto";
import { gzipSync } from "node:zlib";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { WebAsset, WebAssets } from "../web-assets.ts";

export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

interface Prepared {
  readonly type: string;
  readonly raw: Buffer;
  readonly gz: Buffer;
  readonly etag: string;
}

function prepare(asset: WebAsset): Prepared {
  const raw = Buffer.from(asset.body);
  const etag = `"${createHash("sha256").update(raw).digest("base64url").slice(0, 22)}"`;
  return { type: asset.type, raw, gz: gzipSync(raw, { level: 9 }), etag };
}

function send(file: Prepared, req: FastifyRequest, reply: FastifyReply) {
  reply
    .header("content-type", file.type)
    .header("cache-control", "no-cache")
    .header("etag", file.etag)
    .header("content-security-policy", CSP)
    .header("x-frame-options", "DENY")
    .header("vary", "accept-encoding");
  if (req.headers["if-none-match"] === file.etag) return reply.code(304).send();
  if (/\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) return reply.header("content-encoding", "gzip").send(file.gz);
  return reply.send(file.raw);
}

/**
 * Registers the UI's files (`/` is `/index.html`); with a loader, one catch-all route
 * that loads them on first use and hands any other path to the not-found handler.
 */
export function webRoutes(app: FastifyInstance, assets: WebAssets | (() => Promise<WebAssets>)): void {
  if (typeof assets !== "function") {
    for (const [path, asset] of Object.entries(assets)) {
      const file = prepare(asset);
      const handler = async (req: FastifyRequest, reply: FastifyReply) => send(file, req, reply);
      app.get(path, handler);
      if (path === "/index.html") app.get("/", handler);
    }
    return;
  }
  let files: Promise<Map<string, Prepared>> | null = null;
  const load = () => {
    files ??= assets().then(
      (a) => new Map(Object.entries(a).map(([path, asset]) => [path, prepare(asset)])),
      (e: unknown) => {
        files = null;
        throw e;
      },
    );
    return files;
  };
  app.get("/*", async (req, reply) => {
    const path = `/${(req.params as { "*": string })["*"]}`;
    if (path.startsWith("/api/")) return reply.callNotFound();
    const file = (await load()).get(path === "/" ? "/index.html" : path);
    return file ? send(file, req, reply) : reply.callNotFound();
  });
}
