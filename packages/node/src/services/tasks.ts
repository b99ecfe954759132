/**
 * @module services/tasks
 * Long actions as tasks, as the ESXi Host Client's "Recent tasks" and Proxmox's task
 * log show them: VM create and delete, volume upload, update install, network apply.
 * A task has an id, a kind, what it acts on, who started it, its state (`running`,
 * `succeeded`, `failed`, `cancelled`), progress (a fraction, or null while unknown)
 * with a line of detail ("312 MiB of 2048 MiB, 41 MiB/s"), and its error as the API
 * answered it.
 *
 * The request that starts a task still answers with the action's result (a 2xx
 * means it is done); the task makes the action visible meanwhile to every other
 * client, with progress, and cancellable where the action can stop cleanly (an
 * upload: what was written is removed again). Running tasks are always listed;
 * finished ones are kept in memory up to {@link TaskRegistryOptions.keep}; the end of
 * each task is also recorded in the event log, which outlives restarts.
 *
 * @example
 * ```ts
 * const tasks = new TaskRegistry({ now: Date.now, events });
 * await tasks.run({ kind: "vm.create", target: "vm:web01", actor: "admin" }, async (t) => {
 *   t.progress(0.5, "volumes made");
 *   return vms.create(spec);
 * });
 * ```
 */
import { QxError } from "@quantix/core";
import { z } from "zod";
import { ConflictError, NotFoundError } from "../api/http-errors.ts";
import type { EventLog } from "./events.ts";

export const TaskState = z.enum(["running", "succeeded", "failed", "cancelled"]);
export type TaskState = z.infer<typeof TaskState>;

export const Task = z.object({
  id: z.string(),
  /** `vm.create`, `vm.delete`, `volume.upload`, `update.install`, `network.apply`. */
  kind: z.string(),
  /** A sentence naming the action: "Create VM web01". */
  title: z.string(),
  /** What it acts on: `vm:NAME`, `volume:NAME`, `node`, `network`. */
  target: z.string(),
  actor: z.string().nullable(),
  state: TaskState,
  /** 0..1, or null while the size of the work is unknown. */
  progress: z.number().min(0).max(1).nullable(),
  detail: z.string().nullable(),
  cancellable: z.boolean(),
  started: z.string(),
  finished: z.string().nullable(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});
export type Task = z.infer<typeof Task>;

/** What a running action may do with its task. */
export interface TaskHandle {
  readonly id: string;
  /** Aborted when an admin cancels the task (only for cancellable tasks). */
  readonly signal: AbortSignal;
  progress(fraction: number | null, detail?: string | null): void;
}

export interface TaskStart {
  readonly kind: string;
  readonly title: string;
  readonly target: string;
  readonly actor?: string | null;
  /** The action stops cleanly on {@link TaskHandle.signal}. */
  readonly cancellable?: boolean;
}

export interface TaskRegistryOptions {
  readonly now?: () => number;
  /** Each finished task is recorded here (`task.succeeded`, `task.failed`, `task.cancelled`). */
  readonly events?: EventLog;
  /** Finished tasks kept (default 200). */
  readonly keep?: number;
  /** Progress changes are passed on to listeners at most this often per task (default 500 ms). */
  readonly throttleMs?: number;
}

export class TaskNotFoundError extends NotFoundError {
  override name = "TaskNotFoundError";
  constructor(id: string) {
    super(`no task ${id}: finished tasks are kept for a while only (the event log keeps their results)`);
  }
}

export class TaskNotCancellableError extends ConflictError {
  override name = "TaskNotCancellableError";
  constructor(task: Task) {
    super(
      task.state !== "running" ? `task ${task.id} (${task.title}) has already ${task.state === "succeeded" ? "succeeded" : task.state}` : `task ${task.id} (${task.title}) cannot be stopped halfway; wait for it to end`,
    );
  }
}

/** A failed action's error as the API shows it. */
function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof QxError) return { code: e.code, message: e.message };
  const code = (e as { code?: unknown })?.code;
  const message = e instanceof Error ? e.message : String(e);
  return { code: typeof code === "string" ? code : "FAILED", message: message.slice(0, 500) };
}

export class TaskRegistry {
  private readonly tasks = new Map<string, Task>();
  private readonly controllers = new Map<string, AbortController>();
  private readonly listeners = new Set<(t: Task) => void>();
  private readonly lastSent = new Map<string, number>();

  constructor(private readonly o: TaskRegistryOptions = {}) {}

  private now(): number {
    return (this.o.now ?? Date.now)();
  }

  /** Runs `f` as a task; its result or error is the caller's. */
  async run<T>(start: TaskStart, f: (t: TaskHandle) => Promise<T>): Promise<T> {
    const id = crypto.randomUUID();
    const ctl = new AbortController();
    const task: Task = {
      id,
      kind: start.kind,
      title: start.title,
      target: start.target,
      actor: start.actor ?? null,
      state: "running",
      progress: null,
      detail: null,
      cancellable: start.cancellable ?? false,
      started: new Date(this.now()).toISOString(),
      finished: null,
      error: null,
    };
    this.tasks.set(id, task);
    this.controllers.set(id, ctl);
    this.emit(task, true);
    const handle: TaskHandle = {
      id,
      signal: ctl.signal,
      progress: (fraction, detail) => {
        const cur = this.tasks.get(id);
        if (cur?.state !== "running") return;
        const next = { ...cur, progress: fraction === null ? null : Math.min(1, Math.max(0, fraction)), detail: detail === undefined ? cur.detail : detail };
        this.tasks.set(id, next);
        this.emit(next, false);
      },
    };
    try {
      const result = await f(handle);
      await this.finish(id, ctl.signal.aborted ? "cancelled" : "succeeded", null);
      return result;
    } catch (e) {
      await this.finish(id, ctl.signal.aborted ? "cancelled" : "failed", errorOf(e));
      throw e;
    }
  }

  private async finish(id: string, state: TaskState, error: Task["error"]): Promise<void> {
    const cur = this.tasks.get(id);
    if (!cur) return;
    const done: Task = { ...cur, state, error, finished: new Date(this.now()).toISOString(), progress: state === "succeeded" ? 1 : cur.progress };
    this.tasks.set(id, done);
    this.controllers.delete(id);
    this.lastSent.delete(id);
    this.prune();
    this.emit(done, true);
    if (this.o.events) {
      const what = state === "succeeded" ? "done" : state === "cancelled" ? "cancelled" : `failed: ${error?.message ?? "unknown error"}`;
      await this.o.events
        .record({
          severity: state === "failed" ? "error" : state === "cancelled" ? "warning" : "info",
          kind: `task.${state}`,
          message: `${done.title}: ${what}`,
          subject: done.target,
          actor: done.actor,
        })
        .catch(() => undefined);
    }
  }

  private prune(): void {
    const keep = this.o.keep ?? 200;
    const finished = [...this.tasks.values()].filter((t) => t.state !== "running");
    for (const t of finished.slice(0, Math.max(0, finished.length - keep))) this.tasks.delete(t.id);
  }

  private emit(task: Task, always: boolean): void {
    const t = this.now();
    if (!always && t - (this.lastSent.get(task.id) ?? 0) < (this.o.throttleMs ?? 500)) return;
    this.lastSent.set(task.id, t);
    for (const l of this.listeners) {
      try {
        l(task);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Running tasks and the recent finished ones, newest first. */
  list(o: { state?: TaskState; target?: string } = {}): Task[] {
    return [...this.tasks.values()]
      .filter((t) => (o.state === undefined || t.state === o.state) && (o.target === undefined || t.target === o.target))
      .reverse();
  }

  get(id: string): Task {
    const t = this.tasks.get(id);
    if (!t) throw new TaskNotFoundError(id);
    return t;
  }

  /** Asks a cancellable running task to stop; resolves with the task as it is then. */
  cancel(id: string): Task {
    const t = this.get(id);
    const ctl = this.controllers.get(id);
    if (t.state !== "running" || !t.cancellable || !ctl) throw new TaskNotCancellableError(t);
    ctl.abort(new TaskCancelledError(t));
    const next = { ...t, detail: "cancelling" };
    this.tasks.set(id, next);
    this.emit(next, true);
    return next;
  }

  subscribe(listener: (t: Task) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The reason a cancelled task's signal carries. */
export class TaskCancelledError extends ConflictError {
  override name = "TaskCancelledError";
  constructor(task: Task) {
    super(`${task.title} was cancelled (task ${task.id}); nothing of it was kept`);
  }
}
