/**
 * @module api/activity
 *   GET  /api/v1/tasks?state=&target=          read    running tasks and recent finished ones, newest first
 *   GET  /api/v1/tasks/:id                     read
 *   POST /api/v1/tasks/:id/cancel              admin   stop a cancellable running task (409 otherwise)
 *   GET  /api/v1/events?since=&limit=&severity=&subject=   read   the event log, oldest first
 *   GET  /api/v1/changes                       read    server-sent events: `task` (a task started, moved or ended)
 *                                                      and `event` (a new event log entry), for live views
 */
import { z } from "zod";
import { type EventLog, NodeEvent, Severity } from "../services/events.ts";
import { Task, type TaskRegistry, TaskState } from "../services/tasks.ts";
import { type Api, pathParams, type Principal, route } from "./route.ts";
import { openEventStream, sseWriter } from "./sse.ts";

/** Who did it, as the task list and event log name them. */
export function actorOf(p: Principal | null): string | null {
  if (!p) return null;
  if (p.kind === "session") return "admin";
  if (p.kind === "token") return `token:${p.id}`;
  return "root";
}

const Subject = z.string().max(200).regex(/^[a-z]+(:[^\s]+)?$/, "expected a subject such as vm:web01, volume:debian.iso or node");

export function activityRoutes(api: Api, tasks: TaskRegistry, events: EventLog): void {
  route(api, {
    method: "GET",
    url: "/api/v1/tasks",
    scope: "read",
    tag: "activity",
    summary: "Tasks: long actions (VM create and delete, uploads, update install, network apply) running now and recently finished",
    query: z.object({ state: TaskState.optional(), target: Subject.optional() }).strict(),
    response: z.object({ tasks: z.array(Task) }),
    handler: async ({ query }) => ({
      tasks: tasks.list({ ...(query.state ? { state: query.state } : {}), ...(query.target ? { target: query.target } : {}) }),
    }),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/tasks/:id",
    scope: "read",
    tag: "activity",
    summary: "One task",
    params: pathParams({ id: z.string().uuid("expected a task id (a UUID)") }),
    response: Task,
    errors: { 404: "no such task (finished tasks are kept for a while only)" },
    handler: async ({ params }) => tasks.get(params.id),
  });
  route(api, {
    method: "POST",
    url: "/api/v1/tasks/:id/cancel",
    scope: "admin",
    tag: "activity",
    summary: "Cancel a running task that can stop cleanly (an upload); what it made is removed",
    params: pathParams({ id: z.string().uuid("expected a task id (a UUID)") }),
    response: Task,
    errors: { 404: "no such task", 409: "the task has ended or cannot be stopped halfway" },
    handler: async ({ params }) => tasks.cancel(params.id),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/events",
    scope: "read",
    tag: "activity",
    summary: "The event log: VM state changes, failed logins, updates and rollbacks, task results; kept across restarts",
    query: z
      .object({
        since: z.coerce.number({ message: "since must be an event id" }).int().nonnegative().optional(),
        limit: z.coerce.number({ message: "limit must be a number" }).int().min(1, "limit must be at least 1").max(2000, "limit must be at most 2000").default(200),
        severity: Severity.optional(),
        subject: Subject.optional(),
      })
      .strict(),
    response: z.object({ events: z.array(NodeEvent), last: z.number().int().describe("the newest event's id: pass it as since to get only newer ones") }),
    handler: async ({ query }) => ({
      events: events.query({
        limit: query.limit,
        ...(query.since !== undefined ? { since: query.since } : {}),
        ...(query.severity ? { severity: query.severity } : {}),
        ...(query.subject ? { subject: query.subject } : {}),
      }),
      last: events.lastId,
    }),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/changes",
    scope: "read",
    tag: "activity",
    summary: "Live changes as server-sent events: `event: task` with a task, `event: event` with an event log entry",
    description: "The web UI keeps one of these open and patches its views instead of polling everything.",
    stream: true,
    handler: async ({ req, reply }) => {
      const send = sseWriter(reply);
      const offTask = tasks.subscribe((t) => send(`event: task\ndata: ${JSON.stringify(t)}\n\n`));
      const offEvent = events.subscribe((e) => send(`event: event\nid: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`));
      openEventStream(req, reply, `: changes from event ${events.lastId}\n\n`, () => {
        offTask();
        offEvent();
      });
    },
  });
}
