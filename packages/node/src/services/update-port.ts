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

export interface UpdateBackend {
  status(): Promise<UpdateStatus>;
  /** Streams an image (`system-VERSION.squashfs` + signature bundle) to the inactive slot, verifying it. */
  install(image: Readable, info: { sizeBytes: number | null; signature: Buffer | null }): Promise<UpdateStatus>;
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
