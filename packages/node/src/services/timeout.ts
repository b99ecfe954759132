/**
 * @module services/timeout
 * A deadline for any promise, so one stuck check (a hung NFS mount, a daemon that
 * accepts but never answers) cannot hold a request open.
 */

/** Thrown by {@link withTimeout} when the deadline passes first. */
export class TimeoutError extends Error {
  override name = "TimeoutError";
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: no answer within ${ms} ms`);
  }
}

/**
 * Resolves like `promise`, or rejects with {@link TimeoutError} after `ms`.
 *
 * @example
 * ```ts
 * await withTimeout(fs.stat("/data"), 2000, "stat /data");
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, ms)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
