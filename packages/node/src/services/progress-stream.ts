/**
 * @module services/progress-stream
 * A pass-through stream that reports an upload's progress to its task: the fraction
 * done (when the size is known), and "312 MiB of 2048 MiB, 41 MiB/s". When the task's
 * signal is aborted (an admin cancelled it) the stream fails with the signal's reason,
 * so the writer's own clean-up runs (a partial file removed, nothing kept).
 */
import { type Readable, Transform } from "node:stream";
import type { TaskHandle } from "./tasks.ts";

const MIB = 1024 * 1024;

/** "312 MiB of 2048 MiB, 41 MiB/s" (or without the total when it is unknown). */
export function progressDetail(bytes: number, total: number | null, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? bytes / MIB / (elapsedMs / 1000) : 0;
  const done = `${Math.floor(bytes / MIB)} MiB`;
  return `${total !== null ? `${done} of ${Math.ceil(total / MIB)} MiB` : done}, ${rate.toFixed(rate < 10 ? 1 : 0)} MiB/s`;
}

/**
 * `source` through a progress stream: the source's failure or early end (the client
 * went away) fails the result too, so the writer never waits for bytes that cannot come.
 */
export function withProgress(source: Readable, task: TaskHandle, total: number | null, now: () => number = Date.now): Transform {
  const p = progressStream(task, total, now);
  source.once("error", (e) => p.destroy(e));
  source.once("close", () => {
    if (!source.readableEnded && !p.destroyed) p.destroy(new Error("the upload was cut short: the client went away"));
  });
  p.once("error", () => source.unpipe(p));
  return source.pipe(p);
}

export function progressStream(task: TaskHandle, total: number | null, now: () => number = Date.now): Transform {
  const started = now();
  let bytes = 0;
  const s = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      task.progress(total && total > 0 ? Math.min(1, bytes / total) : null, progressDetail(bytes, total, now() - started));
      done(null, chunk);
    },
  });
  const onAbort = () => s.destroy(task.signal.reason instanceof Error ? task.signal.reason : new Error("cancelled"));
  if (task.signal.aborted) onAbort();
  else task.signal.addEventListener("abort", onAbort, { once: true });
  s.once("close", () => task.signal.removeEventListener("abort", onAbort));
  return s;
}
