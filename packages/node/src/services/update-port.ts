/**
 * @module services/update-port
 * The small interface the update routes call. The implementation is qx-update's
 * library (services/update-backend.ts, over packages/update); {@link updateUnavailable}
 * answers every call with 501 and says why (tests, and a build without the updater).
 * qx-node never writes a slot itself: one updater, in one package.
 *
 * @example
 * ```ts
 * const update: UpdateBackend = updateUnavailable;
 * await update.status(); // throws NotImplementedError (501)
 * ```
 */
import type { Readable } from "node:stream";
import { z } from "zod";
import { NotImplementedError } from "../api/http-errors.ts";

export const UpdateStatus = z.object({
  /** The running slot and the other one. */
  booted: z.enum(["A", "B"]).nullable(),
  slots: z.array(
    z.object({
      name: z.enum(["A", "B"]),
      state: z.string().describe("good | bad | trying | empty ..."),
      version: z.string().nullable(),
    }),
  ),
  /** An upload or install in progress. */
  progress: z.object({ phase: z.string(), bytes: z.number(), totalBytes: z.number().nullable() }).nullable(),
  /** Why the node last fell back to the other slot, if it did. */
  lastRollback: z.object({ at: z.string(), reason: z.string() }).nullable(),
});
export type UpdateStatus = z.infer<typeof UpdateStatus>;

export interface InstallInfo {
  readonly sizeBytes: number | null;
  /** The detached OpenPGP signature (the .sig file's bytes). */
  readonly signature: Buffer | null;
  /** The expected SHA-256 (hex), checked when given; a valid signature proves the bytes without it. */
  readonly sha256: string | null;
  /** Accept an image older than the running version. */
  readonly allowDowngrade: boolean;
}

export interface UpdateBackend {
  status(): Promise<UpdateStatus>;
  /** Streams an image (`system-VERSION.squashfs`) with its detached signature to the inactive slot, verifying it. */
  install(image: Readable, info: InstallInfo): Promise<UpdateStatus>;
  /** Marks the running (trial) slot good. */
  markGood(): Promise<UpdateStatus>;
  /** Makes the other slot primary for the next boot. */
  rollback(): Promise<UpdateStatus>;
}

const WHY = "updates are not available in this build yet: qx-node's update routes wait for the qx-update library (packages/update)";

const unavailable = async (): Promise<never> => {
  throw new NotImplementedError(WHY);
};

/** The placeholder backend: every call is a 501 with {@link WHY}. */
export const updateUnavailable: UpdateBackend = {
  status: unavailable,
  install: unavailable,
  markGood: unavailable,
  rollback: unavailable,
};
