import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, beforeEach, describe, it } from "node:test";
import { NotFoundError } from "../api/http-errors.ts";
import { EventLog } from "./events.ts";
import { progressDetail, withProgress } from "./progress-stream.ts";
import { type Task, TaskCancelledError, TaskNotCancellableError, TaskNotFoundError, TaskRegistry } from "./tasks.ts";

describe("TaskRegistry", () => {
  let dir: string;
  let events: EventLog;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-tasks-"));
    events = new EventLog({ file: join(dir, "events.jsonl") });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("lists a running task with its progress, then its result, and records its end as an event", async () => {
    const tasks = new TaskRegistry({ events, throttleMs: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const run = tasks.run({ kind: "vm.create", title: "Create VM web01", target: "vm:web01", actor: "admin" }, async (t) => {
      t.progress(0.5, "disks made");
      await gate;
      return 42;
    });
    await new Promise((r) => setImmediate(r));
    const [running] = tasks.list();
    assert.equal(running?.state, "running");
    assert.equal(running?.progress, 0.5);
    assert.equal(running?.detail, "disks made");
    assert.equal(running?.finished, null);
    release();
    assert.equal(await run, 42);
    const done = tasks.get(running!.id);
    assert.equal(done.state, "succeeded");
    assert.equal(done.progress, 1);
    assert.ok(done.finished);
    const [ev] = events.query();
    assert.equal(ev?.kind, "task.succeeded");
    assert.equal(ev?.message, "Create VM web01: done");
    assert.equal(ev?.subject, "vm:web01");
    assert.equal(ev?.actor, "admin");
  });

  it("keeps a failed task's error as the API answered it and passes the error on", async () => {
    const tasks = new TaskRegistry({ events });
    await assert.rejects(
      tasks.run({ kind: "vm.delete", title: "Delete VM x", target: "vm:x" }, async () => {
        throw new NotFoundError("no VM named x");
      }),
      NotFoundError,
    );
    const [t] = tasks.list();
    assert.equal(t?.state, "failed");
    assert.deepEqual(t?.error, { code: "NOT_FOUND", message: "no VM named x" });
    assert.equal(events.query()[0]?.severity, "error");
    assert.equal(events.query()[0]?.message, "Delete VM x: failed: no VM named x");
  });

  it("cancels a cancellable task through its signal; refuses the others and finished ones with a 409 that says why", async () => {
    const tasks = new TaskRegistry({ events });
    const run = tasks.run({ kind: "volume.upload", title: "Upload volume a.iso", target: "volume:a.iso", cancellable: true }, (t) =>
      new Promise((_, reject) => t.signal.addEventListener("abort", () => reject(t.signal.reason))),
    );
    const fixed = tasks.run({ kind: "update.install", title: "Install a system update", target: "node" }, () => new Promise((r) => setTimeout(r, 20)));
    const [, upload] = tasks.list();
    const [install] = tasks.list();
    assert.equal(upload?.kind, "volume.upload");
    assert.throws(() => tasks.cancel(install!.id), (e: unknown) => e instanceof TaskNotCancellableError && /cannot be stopped halfway/.test(e.message) && e.status === 409);
    assert.equal(tasks.cancel(upload!.id).detail, "cancelling");
    await assert.rejects(run, TaskCancelledError);
    await fixed;
    assert.equal(tasks.get(upload!.id).state, "cancelled");
    assert.throws(() => tasks.cancel(upload!.id), /has already cancelled/);
    assert.throws(() => tasks.get("00000000-0000-4000-8000-000000000000"), TaskNotFoundError);
    assert.deepEqual(events.query().map((e) => e.kind).sort(), ["task.cancelled", "task.succeeded"]);
  });

  it("keeps every running task and only the newest finished ones; 60 at once all get their own id", async () => {
    const tasks = new TaskRegistry({ keep: 10 });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const slow = tasks.run({ kind: "k", title: "slow", target: "node" }, () => gate);
    await Promise.all(Array.from({ length: 60 }, (_, i) => tasks.run({ kind: "k", title: `t${i}`, target: "node" }, async () => i)));
    const list = tasks.list();
    assert.equal(list.length, 11);
    assert.equal(new Set(list.map((t) => t.id)).size, 11);
    assert.ok(list.some((t) => t.title === "slow" && t.state === "running"));
    assert.equal(list[0]?.title, "t59");
    release();
    await slow;
  });

  it("tells listeners of a start and an end always, of progress at most every throttleMs", async () => {
    let now = 0;
    const tasks = new TaskRegistry({ now: () => now, throttleMs: 500 });
    const seen: Task[] = [];
    tasks.subscribe((t) => seen.push(t));
    await tasks.run({ kind: "k", title: "t", target: "node" }, async (t) => {
      now = 100;
      t.progress(0.1);
      now = 200;
      t.progress(0.2);
      now = 700;
      t.progress(0.7);
    });
    assert.deepEqual(seen.map((t) => [t.state, t.progress]), [["running", null], ["running", 0.7], ["succeeded", 1]]);
  });
});

describe("progress streams", () => {
  it("reports the fraction and MiB/s, and fails the stream when the task is cancelled", async () => {
    const tasks = new TaskRegistry({ throttleMs: 0 });
    const seen: (number | null)[] = [];
    tasks.subscribe((t) => {
      if (t.state === "running" && t.progress !== null) seen.push(t.progress);
    });
    await tasks.run({ kind: "volume.upload", title: "up", target: "volume:a", cancellable: true }, async (t) => {
      const chunks = [Buffer.alloc(1024), Buffer.alloc(1024), Buffer.alloc(2048)];
      await pipeline(withProgress(Readable.from(chunks), t, 4096), new PassThrough().resume());
    });
    assert.deepEqual(seen, [0.25, 0.5, 1]);

    const source = new PassThrough();
    const run = tasks.run({ kind: "volume.upload", title: "up2", target: "volume:b", cancellable: true }, (t) =>
      pipeline(withProgress(source, t, null), new PassThrough().resume()),
    );
    source.write(Buffer.alloc(10));
    const id = tasks.list()[0]!.id;
    tasks.cancel(id);
    await assert.rejects(run, TaskCancelledError);
  });

  it("fails when the client goes away before the end", async () => {
    const tasks = new TaskRegistry();
    const source = new PassThrough();
    const run = tasks.run({ kind: "volume.upload", title: "up", target: "volume:a" }, (t) => pipeline(withProgress(source, t, 100), new PassThrough().resume()));
    source.write(Buffer.alloc(10));
    source.destroy();
    await assert.rejects(run, /cut short/);
  });

  it("words the detail as an admin reads it", () => {
    assert.equal(progressDetail(312 * 1048576, 2048 * 1048576, 8000), "312 MiB of 2048 MiB, 39 MiB/s");
    assert.equal(progressDetail(5 * 1048576, null, 2000), "5 MiB, 2.5 MiB/s");
  });
});
