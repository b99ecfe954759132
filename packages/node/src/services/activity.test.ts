import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { lifecycleEvent, networkTrialActivity, recordRollback } from "./activity.ts";
import { EventLog } from "./events.ts";
import type { TrialState } from "./network-try.ts";
import { TaskRegistry } from "./tasks.ts";

const trial = (state: TrialState["state"], o: Partial<TrialState> = {}): TrialState => ({ state, requested: null, address: null, deadline: null, message: null, ...o });
const settle = () => new Promise((r) => setImmediate(r));

describe("activity sources", () => {
  let dir: string;
  let events: EventLog;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-activity-"));
    events = new EventLog({ file: join(dir, "events.jsonl") });
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("a network trial is a task from applying until confirmed (succeeded) or reverted (failed, with the reason)", async () => {
    const tasks = new TaskRegistry({ events });
    const on = networkTrialActivity(tasks, events);
    on(trial("applying"));
    await settle();
    assert.equal(tasks.list()[0]?.state, "running");
    on(trial("pending", { deadline: "2026-12-06T12:02:00.000Z" }));
    on(trial("confirmed", { message: "confirmed; the new settings stay" }));
    await settle();
    await settle();
    assert.equal(tasks.list()[0]?.state, "succeeded");
    on(trial("applying"));
    on(trial("reverted", { message: "not confirmed in time; the previous settings are back" }));
    await settle();
    await settle();
    const [last] = tasks.list();
    assert.equal(last?.state, "failed");
    assert.equal(last?.error?.message, "not confirmed in time; the previous settings are back");
    for (let i = 0; i < 200 && events.query().length < 3; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(events.query().map((e) => e.kind), ["network.trial", "task.succeeded", "task.failed"]);
  });

  it("words libvirt's lifecycle changes; a guest's own shutdown step is left out, a QEMU failure is an error", () => {
    assert.deepEqual(lifecycleEvent({ name: "w", event: "Stopped", detail: "Shutdown" }), { severity: "info", kind: "vm.stopped", message: "VM w stopped (shut down by its guest)", subject: "vm:w" });
    assert.equal(lifecycleEvent({ name: "w", event: "Stopped", detail: "Failed" })?.severity, "error");
    assert.equal(lifecycleEvent({ name: "w", event: "Crashed", detail: "Panicked" })?.kind, "vm.crashed");
    assert.equal(lifecycleEvent({ name: "w", event: "Shutdown", detail: "Finished" }), null);
    assert.equal(lifecycleEvent({ name: "w", event: "Unknown", detail: null }), null);
  });

  it("records the last rollback once however often qx-node starts", async () => {
    const status = { booted: "A" as const, slots: [], progress: null, lastRollback: { at: "2026-12-06T10:00:00Z", reason: "qx-node was not healthy within 300 s" } };
    await recordRollback(status, events);
    await recordRollback(status, events);
    const [e, ...rest] = events.query();
    assert.equal(rest.length, 0);
    assert.equal(e?.kind, "update.rollback");
    assert.match(e!.message, /at 2026-12-06T10:00:00Z: qx-node was not healthy within 300 s/);
    await recordRollback({ ...status, lastRollback: null }, events);
    assert.equal(events.query().length, 1);
  });
});
