/**
 * @module services/update-backend
 * {@link UpdateBackend} over qx-update's library (packages/update): the API never
 * writes a slot itself. An uploaded image is streamed to `/data/.qx-update/` (the
 * data partition; the root is RAM), its detached OpenPGP signature comes in the
 * `x-qx-image-signature` header (base64) and is written beside it as `.sig`, then
 * `applyUpdate` verifies it (and the `x-qx-image-sha256` header's digest, when given)
 * and writes the inactive slot, reporting progress.
 *
 * The library (and openpgp with it) is loaded on first use, so an idle qx-node does
 * not carry it.
 *
 * @example
 * ```ts
 * const update = qxUpdateBackend({ root: "/", log });
 * await update.status();
 * ```
 */
import { createWriteStream, promises as fs } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ConflictError, HttpError, SystemCommandError, ValidationError } from "../api/http-errors.ts";
import { DATA_MOUNTPOINT } from "./data.ts";
import { findMount, parseMountinfo } from "./mountinfo.ts";
import type { UpdateBackend, UpdateStatus } from "./update-port.ts";

export const UPLOAD_DIR = "data/.qx-update";

/** The upload goes to the data partition; without it, it would fill the RAM root. */
async function requireDataMounted(root: string): Promise<void> {
  const text = await fs.readFile(join(root, "proc/self/mountinfo"), "utf8").catch(() => "");
  if (!findMount(parseMountinfo(text), DATA_MOUNTPOINT)) {
    throw new ConflictError(`${DATA_MOUNTPOINT} (the data partition) is not mounted: an uploaded image would have to be held in RAM`, {
      hint: "see the data component of GET /api/v1/health",
    });
  }
}

type Lib = typeof import("@quantix/update");
type UpdateContext = import("@quantix/update").UpdateContext;

/** Maps qx-update's error classes to HTTP statuses. */
function httpErrorFrom(lib: Lib, e: unknown): unknown {
  if (e instanceof HttpError) return e;
  if (e instanceof lib.ImageRejectedError) return new HttpError(422, e.code, e.message, { cause: e });
  if (e instanceof lib.NotInstalledError) return new ConflictError(e.message, { cause: e });
  if (e instanceof lib.EspError) return new SystemCommandError(e.message, { cause: e });
  return e;
}

export interface UpdateBackendOptions {
  readonly root: string;
  readonly log: (msg: string) => void;
  /** The updater's view of the node (default: its partitions and ESP under `root`; tests: a fake node's). */
  readonly context?: (lib: Lib) => UpdateContext;
}

export function qxUpdateBackend(o: UpdateBackendOptions): UpdateBackend {
  let lib: Lib | null = null;
  let progress: UpdateStatus["progress"] = null;
  let busy = false;
  const load = async () => {
    lib ??= await import("@quantix/update");
    return { lib, ctx: o.context ? o.context(lib) : lib.nodeUpdateContext({ root: o.root, log: o.log }) };
  };

  async function status(): Promise<UpdateStatus> {
    const { lib, ctx } = await load();
    try {
      const s = await lib.readStatus(ctx);
      return {
        booted: s.booted,
        slots: s.slots.map((v) => ({ name: v.slot, state: v.status, version: v.version ?? null })),
        progress,
        lastRollback: s.lastRollback ? { at: s.lastRollback.at, reason: s.lastRollback.why ?? s.lastRollback.reason ?? "unknown" } : null,
      };
    } catch (e) {
      throw httpErrorFrom(lib, e);
    }
  }

  return {
    status,
    async install(image: Readable, info) {
      if (busy) throw new ConflictError("an update is already being installed");
      busy = true;
      const dir = join(o.root, UPLOAD_DIR);
      const file = join(dir, "upload.squashfs");
      try {
        const { lib, ctx } = await load();
        if (!info.signature && !(await ctx.settings()).allow_unsigned) {
          throw new ValidationError("headers.x-qx-image-signature", "the image's detached signature (base64 of the .sig file) is required");
        }
        await requireDataMounted(o.root);
        await fs.rm(dir, { recursive: true, force: true });
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
        if (info.signature) await fs.writeFile(`${file}.sig`, info.signature, { mode: 0o600 });
        progress = { phase: "upload", bytes: 0, totalBytes: info.sizeBytes };
        image.on("data", (c: Buffer) => {
          if (progress) progress = { ...progress, bytes: progress.bytes + c.length };
        });
        await pipeline(image, createWriteStream(file, { mode: 0o600 }));
        try {
          await lib.applyUpdate(ctx, {
            image: file,
            ...(info.sha256 ? { sha256: info.sha256 } : {}),
            allowDowngrade: info.allowDowngrade,
            onProgress: (phase, done, total) => {
              progress = { phase, bytes: done ?? 0, totalBytes: total ?? null };
            },
          });
        } catch (e) {
          throw httpErrorFrom(lib, e);
        }
        progress = null;
        return await status();
      } finally {
        busy = false;
        progress = null;
        await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
      }
    },
    async markGood() {
      const { lib, ctx } = await load();
      await lib.markGoodNow(ctx).catch((e: unknown) => Promise.reject(httpErrorFrom(lib, e)));
      return status();
    },
    async rollback() {
      const { lib, ctx } = await load();
      await lib.rollbackNow(ctx).catch((e: unknown) => Promise.reject(httpErrorFrom(lib, e)));
      return status();
    },
  };
}
