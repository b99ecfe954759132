import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { EVENTS_FILE } from "../server.ts";
import { startTestNode, type TestNode } from "./test-server.ts";

/** Opens /api/v1/changes and collects its server-sent events until `close`. */
function changes(n: TestNode) {
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect the streamed objects field by field
  const got: { event: string; data: any }[] = [];
  let buf = "";
  const agent = new Agent({ ca: n.srv.certificate.certPem });
  const ready = new Promise<void>((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: n.srv.port, path: "/api/v1/changes", headers: { authorization: `Bearer ${n.reader}` }, agent, servername: "localhost" },
      (res) => {
        assert.equal(res.statusCode, 200);
        assert.match(String(res.headers["content-type"]), /text\/event-stream/);
        res.on("data", (d: Buffer) => {
          buf += d.toString("utf8");
          const blocks = buf.split("\n\n");
          buf = blocks.pop() ?? "";
          for (const b of blocks) {
            const ev = /^event: (.*)$/m.exec(b)?.[1];
            const data = /^data: (.*)$/m.exec(b)?.[1];
            if (ev && data) got.push({ event: ev, data: JSON.parse(data) });
          }
          resolve();
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
  return { got, ready, close: () => agent.destroy() };
}

const until = async (f: () => boolean | Promise<boolean>, what: string, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("tasks, events and the changes stream", () => {
  let n: TestNode;
  before(async () => {
    n = await startTestNode();
  });
  after(() => n.close());

  it("records a failed login as a warning event with the name and address, readable by a read token", async () => {
    const bad = await n.call("POST", "/api/v1/auth/login", { body: { username: "root\u001b[2J", password: "wrong-password" } });
    assert.equal(bad.status, 401);
    const r = await n.call("GET", "/api/v1/events?severity=warning", { token: n.reader });
    assert.equal(r.status, 200, r.text);
    const ev = r.json.events.find((e: { kind: string }) => e.kind === "auth.login-failed");
    assert.ok(ev, r.text);
    assert.equal(ev.message, "Failed login as root?[2J from 127.0.0.1");
    assert.equal(ev.severity, "warning");
    assert.ok(r.json.last >= ev.id);
    const onDisk = (await readFile(join(n.root, "quantix", EVENTS_FILE), "utf8")).trim().split("\n").map((l) => JSON.parse(l));
    assert.ok(onDisk.some((e) => e.id === ev.id && e.kind === "auth.login-failed"));
  });

  it("records API token and password changes with who made them", async () => {
    const made = await n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: "ci-bot", scope: "read" } });
    assert.equal(made.status, 201, made.text);
    assert.equal((await n.call("DELETE", `/api/v1/auth/tokens/${made.json.id}`, { token: n.admin })).status, 200);
    const ev = (await n.call("GET", "/api/v1/events?subject=node", { token: n.reader })).json.events.filter((e: { kind: string }) => e.kind === "auth.change");
    assert.deepEqual(ev.map((e: { message: string; actor: string }) => [e.message, e.actor]), [
      ['API token "ci-bot" (read) was created', "admin"],
      [`API token ${made.json.id} was revoked`, "admin"],
    ]);
  });

  it("makes VM create and delete tasks with actor and result, and libvirt's state changes events; the stream carries both", async () => {
    const live = changes(n);
    await live.ready;
    const made = await n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: "web-1", memory_mib: 256, start: true } });
    assert.equal(made.status, 201, made.text);
    const tasks = await n.call("GET", "/api/v1/tasks?target=vm:web-1", { token: n.reader });
    assert.equal(tasks.status, 200, tasks.text);
    const [create] = tasks.json.tasks;
    assert.equal(create.kind, "vm.create");
    assert.equal(create.title, "Create VM web-1");
    assert.equal(create.state, "succeeded");
    assert.equal(create.actor, "admin");
    assert.equal((await n.call("GET", `/api/v1/tasks/${create.id}`, { token: n.reader })).json.id, create.id);
    const ev = await n.call("GET", "/api/v1/events?subject=vm:web-1", { token: n.reader });
    assert.deepEqual(ev.json.events.map((e: { kind: string }) => e.kind), ["vm.defined", "vm.started", "task.succeeded"]);
    assert.equal(ev.json.events[1].message, "VM web-1 started");

    const gone = await n.call("DELETE", "/api/v1/vms/nothere", { token: n.admin });
    assert.equal(gone.status, 404);
    const failed = (await n.call("GET", "/api/v1/tasks?state=failed", { token: n.reader })).json.tasks[0];
    assert.equal(failed.title, "Delete VM nothere");
    assert.equal(failed.error.code, "NOT_FOUND");

    await until(() => live.got.some((g) => g.event === "task" && g.data.id === create.id && g.data.state === "succeeded"), "the task's end on the stream");
    assert.ok(live.got.some((g) => g.event === "task" && g.data.id === create.id && g.data.state === "running"));
    assert.ok(live.got.some((g) => g.event === "event" && g.data.kind === "vm.started"));
    live.close();
  });

  it("shows an upload's progress and cancels it: nothing is kept, the task says cancelled", async () => {
    const total = 8 * 1024 * 1024;
    const agent = new Agent({ ca: n.srv.certificate.certPem });
    let status = 0;
    const answered = new Promise<void>((resolve) => {
      const req = request(
        {
          host: "127.0.0.1",
          port: n.srv.port,
          method: "PUT",
          path: "/api/v1/storage/volumes/big.iso/content",
          headers: { authorization: `Bearer ${n.admin}`, "content-type": "application/octet-stream", "content-length": String(total) },
          agent,
          servername: "localhost",
        },
        (res) => {
          status = res.statusCode ?? 0;
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", () => resolve());
      req.write(Buffer.alloc(1024 * 1024));
    });
    // biome-ignore lint/suspicious/noExplicitAny: the task as the API answered it
    let task: any;
    await until(async () => {
      const r = await n.call("GET", "/api/v1/tasks?state=running", { token: n.reader });
      task = r.json.tasks.find((t: { kind: string }) => t.kind === "volume.upload");
      // The MiB written so far has all arrived (it comes in chunks of a few KiB).
      return task !== undefined && /^1 MiB of 8 MiB/.test(task.detail ?? "");
    }, "the upload task with progress");
    assert.equal(task.target, "volume:big.iso");
    assert.equal(task.cancellable, true);
    assert.match(task.detail, /^1 MiB of 8 MiB, [\d.]+ MiB\/s$/);
    assert.equal(task.progress, 0.125);
    assert.equal((await n.call("POST", `/api/v1/tasks/${task.id}/cancel`, { token: n.reader })).status, 403);
    const c = await n.call("POST", `/api/v1/tasks/${task.id}/cancel`, { token: n.admin });
    assert.equal(c.status, 200, c.text);
    await answered;
    agent.destroy();
    assert.ok(status === 409 || status === 0, `upload answered ${status}`);
    await until(async () => (await n.call("GET", `/api/v1/tasks/${task.id}`, { token: n.reader })).json.state === "cancelled", "the task to end cancelled");
    assert.equal((await n.call("GET", "/api/v1/storage/volumes/big.iso", { token: n.reader })).status, 404);
    const again = await n.call("POST", `/api/v1/tasks/${task.id}/cancel`, { token: n.admin });
    assert.equal(again.status, 409);
    assert.match(again.json.message, /has already cancelled/);
  });

  it("refuses bad queries with a sentence, an unknown task with 404", async () => {
    for (const [q, msg] of [
      ["/api/v1/events?limit=0", /limit must be at least 1/],
      ["/api/v1/events?since=abc", /since must be an event id/],
      ["/api/v1/events?severity=loud", /severity/],
      ["/api/v1/events?subject=a%20b", /expected a subject/],
      ["/api/v1/tasks?state=done", /state/],
      ["/api/v1/tasks/nope", /expected a task id/],
    ] as const) {
      const r = await n.call("GET", q, { token: n.reader });
      assert.equal(r.status, 400, q);
      assert.match(r.json.message, msg, q);
    }
    assert.equal((await n.call("GET", "/api/v1/tasks/00000000-0000-4000-8000-000000000000", { token: n.reader })).status, 404);
    assert.equal((await n.call("GET", "/api/v1/events")).status, 401);
  });

  it("60 VM creates at once: 60 tasks with their own ids, events numbered without gaps or repeats, on disk line for line", async () => {
    const r = await Promise.all(Array.from({ length: 60 }, (_, i) => n.call("POST", "/api/v1/vms", { token: n.admin, body: { name: `p-${i}`, memory_mib: 64 } })));
    assert.ok(r.every((a) => a.status === 201), r.map((a) => a.status).join(","));
    const tasks = (await n.call("GET", "/api/v1/tasks", { token: n.reader })).json.tasks.filter((t: { title: string }) => /^Create VM p-/.test(t.title));
    assert.equal(tasks.length, 60);
    assert.equal(new Set(tasks.map((t: { id: string }) => t.id)).size, 60);
    const all = (await n.call("GET", "/api/v1/events?limit=2000", { token: n.reader })).json.events.map((e: { id: number }) => e.id);
    assert.deepEqual(all, Array.from({ length: all.length }, (_, i) => all[0] + i));
    const lines = (await readFile(join(n.root, "quantix", EVENTS_FILE), "utf8")).trim().split("\n");
    assert.equal(lines.length, all.at(-1));
  });

  it("is in the OpenAPI document", async () => {
    const doc = (await n.call("GET", "/api/v1/openapi.json", { token: n.reader })).json;
    for (const p of ["/api/v1/tasks", "/api/v1/tasks/{id}", "/api/v1/tasks/{id}/cancel", "/api/v1/events", "/api/v1/changes"]) assert.ok(doc.paths[p], p);
  });
});
