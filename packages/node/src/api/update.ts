/**
 * @module api/update
 *   GET  /api/v1/update            read    slots, progress, last rollback and its reason
 *   PUT  /api/v1/update/image      admin   the image as the raw body (streamed, no size limit) → installed to the inactive slot
 *   POST /api/v1/update/mark-good  admin
 *   POST /api/v1/update/rollback   admin   { confirm: true }
 *
 * Served by qx-update's library (services/update-backend); 501 where it is absent.
 */
import type { Readable } from "node:stream";
import { z } from "zod";
import { type UpdateBackend, UpdateStatus } from "../services/update-port.ts";
import { ValidationError } from "./http-errors.ts";
import { type Api, route } from "./route.ts";

export const IMAGE_CONTENT_TYPE = "application/octet-stream";
/** The image's detached OpenPGP signature, base64 (the image itself is the body). */
export const SIGNATURE_HEADER = "x-qx-image-signature";

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
        summary: "Upload a system image (raw body, signature in x-qx-image-signature); it is verified and written to the inactive slot",
        rawBody: IMAGE_CONTENT_TYPE,
        response: UpdateStatus,
        errors: { ...unavailable, 409: "an update is already running", 415: `the body must be ${IMAGE_CONTENT_TYPE}`, 422: "the image was rejected (signature, checksum, architecture, size...)" },
        handler: async ({ req, reply }) => {
          const size = Number(req.headers["content-length"]);
          const sig = req.headers[SIGNATURE_HEADER];
          if (sig !== undefined && (typeof sig !== "string" || sig.length > 16_384 || !/^[A-Za-z0-9+/=\s]+$/.test(sig))) {
            throw new ValidationError(`headers.${SIGNATURE_HEADER}`, "expected the base64 of the image's .sig file (at most 16 KiB)");
          }
          try {
            return await update.install(req.body as Readable, {
              sizeBytes: Number.isFinite(size) ? size : null,
              signature: sig ? Buffer.from(sig, "base64") : null,
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
