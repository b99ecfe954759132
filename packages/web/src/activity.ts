/**
 * @module activity
 * The Activity page of the web UI, like the ESXi Host Client's "Recent tasks" and
 * "Events": the tasks (running ones with a progress bar and, where the action can stop
 * cleanly, a Cancel button behind a confirmation dialog) and the event log, both kept
 * live by one server-sent-events stream (`GET /api/v1/changes`). A change patches the
 * row it is about (tasks by id, new events on top); nothing else on the page is
 * redrawn, so an open dialog or a chosen filter stays as it is. When the stream breaks
 * it is opened again after a pause and the lists are read afresh.
 * Every value is put in the page as text.
 */
import { confirmAction } from "./dialog.ts";
import { readEvents } from "./sse.ts";

type Json = Record<string, unknown>;
type Child = Node | string | null | undefined | false;

export interface ActivityDeps {
  h(tag: string, attrs?: Record<string, unknown>, ...children: Child[]): HTMLElement;
  api<T = Json>(method: string, path: string, body?: unknown): Promise<T>;
  msg(kind: "error" | "info" | "warn", text: string): HTMLElement;
  errText(e: unknown): string;
  token(): string;
  /** Aborted when the page is left. */
  signal: AbortSignal;
}

export interface Task {
  id: string;
  kind: string;
  title: string;
  target: string;
  actor: string | null;
  state: "running" | "succeeded" | "failed" | "cancelled";
  progress: number | null;
  detail: string | null;
  cancellable: boolean;
  started: string;
  finished: string | null;
  error: { code: string; message: string } | null;
}

export interface NodeEvent {
  id: number;
  time: string;
  severity: "info" | "warning" | "error";
  kind: string;
  message: string;
  subject: string | null;
  actor: string | null;
}

const time = (iso: string) => new Date(iso).toLocaleString();
const STATE_TEXT: Record<Task["state"], string> = { running: "Running", succeeded: "Done", failed: "Failed", cancelled: "Cancelled" };

/**
 * Reads `GET /api/v1/changes` until `signal` is aborted, calling `on` per message;
 * re-opens after a broken stream (calling `resync` first, the lists may have moved on).
 */
export async function followChanges(
  token: () => string,
  signal: AbortSignal,
  on: (type: string, data: unknown) => void,
  resync: () => Promise<void>,
): Promise<void> {
  for (let attempt = 0; !signal.aborted; attempt++) {
    try {
      if (attempt > 0) await resync();
      await readEvents("/api/v1/changes", token(), signal, on);
    } catch {
      if (signal.aborted) return;
    }
    await new Promise((r) => setTimeout(r, Math.min(10_000, 1000 * 2 ** Math.min(attempt, 3))));
  }
}

export async function activityView(d: ActivityDeps): Promise<HTMLElement> {
  const taskBody = d.h("tbody", { id: "task-rows" });
  const eventBody = d.h("tbody", { id: "event-rows" });
  const taskNote = d.h("div");
  const eventNote = d.h("div");
  const severity = d.h("select", { id: "event-severity" },
    d.h("option", { value: "" }, "All"), d.h("option", { value: "warning" }, "Warnings and errors"), d.h("option", { value: "error" }, "Errors"),
  ) as HTMLSelectElement;
  const rows = new Map<string, HTMLElement>();

  const taskRow = (t: Task): HTMLElement => {
    const status = t.state === "running"
      ? d.h("span", {}, t.progress !== null ? d.h("progress", { max: "1", value: String(t.progress) }) : d.h("progress"), " ", t.detail ?? "")
      : d.h("span", { class: t.state === "succeeded" ? "ok" : t.state === "failed" ? "bad" : "muted" }, STATE_TEXT[t.state], t.error ? `: ${t.error.message}` : "");
    const cancel = t.state === "running" && t.cancellable
      ? d.h("button", {
          class: "secondary",
          "data-cancel": t.id,
          onclick: async () => {
            const r = await confirmAction({ title: `Cancel "${t.title}"?`, what: "The action stops where it is and what it made so far is removed. It cannot be resumed.", confirm: "Cancel the task", cancel: "Keep it running" });
            if (!r.confirmed) return;
            try {
              await d.api("POST", `/api/v1/tasks/${encodeURIComponent(t.id)}/cancel`);
            } catch (e) {
              taskNote.replaceChildren(d.msg("error", d.errText(e)));
            }
          },
        }, "Cancel")
      : null;
    return d.h("tr", { "data-task": t.id, "data-state": t.state }, d.h("td", {}, t.title), d.h("td", {}, t.target), d.h("td", {}, t.actor ?? "system"), d.h("td", {}, time(t.started)), d.h("td", {}, status), d.h("td", {}, cancel));
  };
  const putTask = (t: Task) => {
    const row = taskRow(t);
    const old = rows.get(t.id);
    if (old?.isConnected) old.replaceWith(row);
    else taskBody.prepend(row);
    rows.set(t.id, row);
  };
  const eventRow = (e: NodeEvent) =>
    d.h("tr", { "data-event": String(e.id), class: `sev-${e.severity}` },
      d.h("td", {}, time(e.time)), d.h("td", { class: e.severity === "info" ? "" : "bad" }, e.severity), d.h("td", {}, e.message), d.h("td", {}, e.subject ?? ""), d.h("td", {}, e.actor ?? "system"),
    );
  const shown = (e: NodeEvent) => severity.value === "" || (severity.value === "warning" ? e.severity !== "info" : e.severity === "error");

  const loadTasks = async () => {
    try {
      const r = await d.api<{ tasks: Task[] }>("GET", "/api/v1/tasks");
      taskBody.replaceChildren();
      rows.clear();
      for (const t of [...r.tasks].reverse()) putTask(t);
      taskNote.replaceChildren(r.tasks.length === 0 ? d.msg("info", "No tasks yet: creating a VM, uploading a volume, installing an update or changing the network shows here.") : "");
    } catch (e) {
      taskNote.replaceChildren(d.msg("error", `The tasks could not be read: ${d.errText(e)}`));
    }
  };
  const loadEvents = async () => {
    try {
      const q = severity.value ? `&severity=${severity.value}` : "";
      const r = await d.api<{ events: NodeEvent[] }>("GET", `/api/v1/events?limit=200${q}`);
      eventBody.replaceChildren(...[...r.events].reverse().map(eventRow));
      eventNote.replaceChildren(r.events.length === 0 ? d.msg("info", "No events.") : "");
    } catch (e) {
      eventNote.replaceChildren(d.msg("error", `The event log could not be read: ${d.errText(e)}`));
    }
  };
  severity.addEventListener("change", () => void loadEvents());
  await Promise.all([loadTasks(), loadEvents()]);
  void followChanges(
    d.token,
    d.signal,
    (type, data) => {
      if (type === "task") {
        taskNote.replaceChildren();
        putTask(data as Task);
      } else if (type === "event" && shown(data as NodeEvent)) {
        eventNote.replaceChildren();
        eventBody.prepend(eventRow(data as NodeEvent));
      }
    },
    async () => {
      await Promise.all([loadTasks(), loadEvents()]);
    },
  );
  const head = (...cols: string[]) => d.h("thead", {}, d.h("tr", {}, ...cols.map((c) => d.h("th", {}, c))));
  return d.h("div", {},
    d.h("section", { class: "card", id: "tasks" }, d.h("h2", {}, "Tasks"), taskNote, d.h("table", {}, head("Task", "Target", "By", "Started", "Status", ""), taskBody)),
    d.h("section", { class: "card", id: "events" }, d.h("h2", {}, "Events"), d.h("div", { class: "row" }, d.h("label", {}, "Show", severity)), eventNote, d.h("table", {}, head("Time", "Severity", "Event", "About", "By"), eventBody)),
  );
}
