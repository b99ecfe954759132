import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { EventLog, NodeEvent } from "./events.ts";

describe("EventLog", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-events-"));
    file = join(dir, "quantix", "events.jsonl");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("writes each event to disk before it resolves and reads them back after a restart, numbering on", async () => {
    const a = new EventLog({ file, now: () => Date.UTC(2026, 11, 6) });
    await a.load();
    const e1 = await a.record({ severity: "warning", kind: "auth.login-failed", message: "Failed login as admin from 10.0.0.5", subject: "node" });
    assert.equal(e1.id, 1);
    assert.equal(e1.time, "2026-12-06T00:00:00.000Z");
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    assert.equal(lines.length, 1);
    assert.deepEqual(NodeEvent.parse(JSON.parse(lines[0]!)), e1);
    await a.record({ severity: "info", kind: "vm.started", message: "VM web01 started", subject: "vm:web01" });

    const b = new EventLog({ file });
    await b.load();
    assert.deepEqual(b.query().map((e) => e.id), [1, 2]);
    assert.equal((await b.record({ severity: "info", kind: "x", message: "third" })).id, 3);
    assert.equal(b.lastId, 3);
  });

  it("skips a torn or foreign line (a power cut mid-write) and keeps the rest", async () => {
    const a = new EventLog({ file });
    await a.record({ severity: "info", kind: "a", message: "one" });
    await writeFile(file, `${await readFile(file, "utf8")}{"id":2,"time":"2026-12-\nnot json\n{"id":"x"}\n`);
    const b = new EventLog({ file });
    await b.load();
    assert.deepEqual(b.query().map((e) => e.message), ["one"]);
    assert.equal((await b.record({ severity: "info", kind: "a", message: "two" })).id, 2);
  });

  it("stays within its size bound on disk: the file is rotated once, older events dropped", async () => {
    const log = new EventLog({ file, maxFileBytes: 2000, keep: 10_000 });
    for (let i = 0; i < 200; i++) await log.record({ severity: "info", kind: "vm.started", message: `VM vm-${i} started`, subject: `vm:vm-${i}` });
    const size = (await stat(file)).size + (await stat(`${file}.1`)).size;
    assert.ok(size <= 4000, `on disk: ${size} bytes`);
    const again = new EventLog({ file });
    await again.load();
    const ids = again.query({ limit: 10_000 }).map((e) => e.id);
    assert.equal(ids.at(-1), 200);
    assert.ok(ids.length < 200 && ids.length > 10);
    assert.deepEqual(ids, [...ids].sort((x, y) => x - y));
    assert.equal((await again.record({ severity: "info", kind: "k", message: "m" })).id, 201);
  });

  it("gives 100 concurrent records 100 distinct consecutive ids and 100 whole lines", async () => {
    const log = new EventLog({ file });
    await log.load();
    const got = await Promise.all(Array.from({ length: 100 }, (_, i) => log.record({ severity: "info", kind: "k", message: `event ${i} ${"x".repeat(200)}` })));
    assert.deepEqual(got.map((e) => e.id).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i + 1));
    const lines = (await readFile(file, "utf8")).trim().split("\n");
    assert.equal(lines.length, 100);
    for (const l of lines) NodeEvent.parse(JSON.parse(l));
  });

  it("filters by id, severity and subject, newest `limit`, oldest first", async () => {
    const log = new EventLog({ file });
    await log.record({ severity: "info", kind: "vm.started", message: "a", subject: "vm:a" });
    await log.record({ severity: "error", kind: "vm.crashed", message: "b", subject: "vm:b" });
    await log.record({ severity: "warning", kind: "auth.login-failed", message: "c", subject: "node" });
    await log.record({ severity: "info", kind: "vm.stopped", message: "d", subject: "vm:a" });
    assert.deepEqual(log.query({ since: 2 }).map((e) => e.message), ["c", "d"]);
    assert.deepEqual(log.query({ severity: "warning" }).map((e) => e.message), ["b", "c"]);
    assert.deepEqual(log.query({ subject: "vm:a" }).map((e) => e.message), ["a", "d"]);
    assert.deepEqual(log.query({ limit: 1 }).map((e) => e.message), ["d"]);
  });

  it("tells subscribers of each new event, in order", async () => {
    const log = new EventLog({ file });
    const seen: number[] = [];
    const off = log.subscribe((e) => seen.push(e.id));
    await Promise.all([1, 2, 3].map((i) => log.record({ severity: "info", kind: "k", message: String(i) })));
    off();
    await log.record({ severity: "info", kind: "k", message: "after" });
    assert.deepEqual(seen, [1, 2, 3]);
  });

  it("keeps working in memory, and says so once, where the disk refuses", { skip: process.getuid?.() === 0 ? "root writes anywhere" : false }, async () => {
    await chmod(dir, 0o500);
    const said: string[] = [];
    const log = new EventLog({ file, log: (m) => said.push(m) });
    await log.record({ severity: "info", kind: "k", message: "one" });
    await log.record({ severity: "info", kind: "k", message: "two" });
    assert.equal(log.query().length, 2);
    assert.equal(said.length, 1);
    assert.match(said[0]!, /in memory only/);
    await chmod(dir, 0o700);
  });

  it("keeps working in memory where the log's place is a file, not a directory", async () => {
    await writeFile(join(dir, "quantix"), "not a directory");
    const said: string[] = [];
    const log = new EventLog({ file, log: (m) => said.push(m) });
    await log.load();
    await log.record({ severity: "info", kind: "k", message: "one" });
    await log.record({ severity: "info", kind: "k", message: "two" });
    assert.deepEqual(log.query().map((e) => e.id), [1, 2]);
    assert.equal(said.length, 1);
    assert.match(said[0]!, /cannot write .*in memory only/);
  });
});
