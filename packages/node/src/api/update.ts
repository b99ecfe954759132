/**
 * @module api/update
 *   GET  /api/v1/update            read    slots, progress, last rollback and its reason
 *   PUT  /api/v1/update/image      admin   the image as the raw body (streamed, no size limit) → installed to the inactive slot
 *                                         headers: x-qx-image-signature (base64 of the .sig, required unless
 *                                         update.allow_unsigned), x-qx-image-sha256 (optional, checked when given);
 *                                         ?allow_downgrade=true accepts an image older than the running one
 *   POST /api/v1/update/mark-good  admin
 *   POST /api/v1/update/rollback   admin   { confirm: true }
 *
 * Served by qx-update's library (services/update-backend); 501 where it is absent.
 */
import type { Readable } from "node:stream";
import { z } from "zod";
import { type UpdateBackend, UpdateStatus } from "../services/update-port.ts";
import { ValidationError } from "./http-errors.ts";
import type { Activity } from "../services/activity.ts";
import { withProgress } from "../services/progress-stream.ts";
import { actorOf } from "./activity.ts";
import { type Api, route } from "./route.ts";

export const IMAGE_CONTENT_TYPE = "application/octet-stream";
/** The image's detached OpenPGP signature, base64 (the image itself is the body). */
export const SIGNATURE_HEADER = "x-qx-image-signature";
/** The image's SHA-256 in hex (optional: the signature proves the bytes; checked when given). */
export const SHA256_HEADER = "x-qx-image-sha256";

const InstallQuery = z
  .object({
    allow_downgrade: z.enum(["true", "false"], { message: "expected true or false" }).optional().describe("accept an image older than the running version"),
  })
  .strict();

const isStream = (b: unknown): b is Readable => typeof (b as Readable | null)?.pipe === "function";

export function updateRoutes(api: Api, update: UpdateBackend, activity: Activity): void {
  const { tasks, events } = activity;
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
        description:
          `The body is the squashfs itself; ${SIGNATURE_HEADER} carries the base64 of its detached .sig file, ` +
          `${SHA256_HEADER} optionally the hex SHA-256 from its .sha256 file. An image older than the running ` +
          "version is refused unless allow_downgrade=true (or update.allow_downgrade in node.yaml).",
        query: InstallQuery,
        rawBody: IMAGE_CONTENT_TYPE,
        response: UpdateStatus,
        errors: { ...unavailable, 409: "an update is already running", 415: `the body must be ${IMAGE_CONTENT_TYPE}`, 422: "the image was rejected (signature, checksum, architecture, size...)" },
        handler: async ({ req, reply, query, principal }) => {
          const size = Number(req.headers["content-length"]);
          const sig = req.headers[SIGNATURE_HEADER];
          if (sig !== undefined && (typeof sig !== "string" || sig.length > 16_384 || !/^[A-Za-z0-9+/=\s]+$/.test(sig))) {
            throw new ValidationError(`headers.${SIGNATURE_HEADER}`, "expected the base64 of the image's .sig file (at most 16 KiB)");
          }
          const sha = req.headers[SHA256_HEADER];
          if (sha !== undefined && (typeof sha !== "string" || !/^[0-9a-fA-F]{64}$/.test(sha.trim()))) {
            throw new ValidationError(`headers.${SHA256_HEADER}`, "expected the image's SHA-256: 64 hex digits, as in its .sha256 file");
          }
          try {
            const total = Number.isFinite(size) ? size : null;
            const actor = actorOf(principal);
            const status = await tasks.run({ kind: "update.install", title: "Install a system update", target: "node", actor }, (t) =>
              update.install(isStream(req.body) ? withProgress(req.body, t, total) : (req.body as Readable), {
                sizeBytes: total,
                signature: sig ? Buffer.from(sig, "base64") : null,
                sha256: typeof sha === "string" ? sha.trim().toLowerCase() : null,
                allowDowngrade: query.allow_downgrade === "true",
              }),
            );
            const other = status.slots.find((s) => s.name !== status.booted);
            await events.record({
              severity: "info",
              kind: "update.installed",
              message: `System ${other?.version ?? "update"} was installed in slot ${other?.name ?? "?"}: it runs after the next reboot`,
              subject: "node",
              actor,
            });
            return status;
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
    handler: async ({ principal }) => {
      const status = await update.markGood();
      await events.record({ severity: "info", kind: "update.marked-good", message: `Slot ${status.booted ?? "?"} was marked good`, subject: "node", actor: actorOf(principal) });
      return status;
    },
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
    handler: async ({ principal }) => {
      const status = await update.rollback();
      await events.record({ severity: "warning", kind: "update.rollback-requested", message: "A rollback to the other slot was asked for: it runs after the next reboot", subject: "node", actor: actorOf(principal) });
      return status;
    },
  });
}
