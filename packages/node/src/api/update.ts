/**
 * @module api/update
 *   GET  /api/v1/update            read    slots, progress, last rollback and its reason
 *   PUT  /api/v1/update/image      admin   the image as the raw body (streamed, no size limit) → installed to the inactive slot
 *   POST /api/v1/update/mark-good  admin
 *   POST /api/v1/update/rollback   admin   { confirm: true }
 *
 * Answers 501 until qx-update's library is wired in (see services/update-port).
 */
import type { Readable } from "node:stream";
import { z } from "zod";
import { type UpdateBackend, UpdateStatus } from "../services/update-port.ts";
import { type Api, route } from "./route.ts";

export const IMAGE_CONTENT_TYPE = "application/octet-stream";

export function updateRoutes(api: Api, update: UpdateBackend): void {
  const unavailable = { 501: "the updater is not part of this build yet" };
  route(api, {
    method: "GET",
    url: "/api/v1/update",
    scope: "read",
    tag: "update",
    summary: "Update status: slots, progress, last rollback",
    response: UpdateStatus,
    errors: unavailable,
    handler: async () => update.status(),
  });

  // The raw image body bypasses the JSON body limit: only inside this plugin, only for this route.
  api.app.register(async (scoped) => {
    scoped.addContentTypeParser(IMAGE_CONTENT_TYPE, (_req, payload, done) => done(null, payload));
    route(
      { ...api, app: scoped },
      {
        method: "PUT",
        url: "/api/v1/update/image",
        scope: "admin",
        tag: "update",
        summary: "Upload a system image; it is streamed to the inactive slot and verified",
        rawBody: IMAGE_CONTENT_TYPE,
        response: UpdateStatus,
        errors: { ...unavailable, 415: `the body must be ${IMAGE_CONTENT_TYPE}` },
        handler: async ({ req, reply }) => {
          const size = Number(req.headers["content-length"]);
          try {
            return await update.install(req.body as Readable, {
              sizeBytes: Number.isFinite(size) ? size : null,
            });
          } finally {
            // Whatever happened, do not read (or keep) the rest of a refused upload.
            if (!req.raw.readableEnded) reply.header("connection", "close");
          }
        },
      },
    );
  });

  route(api, {
    method: "POST",
    url: "/api/v1/update/mark-good",
    scope: "admin",
    tag: "update",
    summary: "Mark the running slot good (ends its trial)",
    response: UpdateStatus,
    errors: unavailable,
    handler: async () => update.markGood(),
  });
  route(api, {
    method: "POST",
    url: "/api/v1/update/rollback",
    scope: "admin",
    tag: "update",
    summary: "Boot the other slot next time",
    body: z.object({ confirm: z.literal(true, { message: "set confirm: true to roll back" }) }).strict(),
    response: UpdateStatus,
    errors: unavailable,
    handler: async () => update.rollback(),
  });
}
