/**
 * @module services/activity
 * The sources of tasks and events that are not a single request: a network change on
 * trial (a task from "applying" until it is confirmed or reverted), VM state changes
 * reported by libvirt, and a rollback the health gate or GRUB made while qx-node was
 * not running (found in the update status at start, recorded once).
 */
import type { DomainLifecycle } from "../virt/hypervisor.ts";
import type { EventLog } from "./events.ts";
import type { TrialState } from "./network-try.ts";
import type { TaskRegistry } from "./tasks.ts";
import type { UpdateStatus } from "./update-port.ts";

/** The task list and the event log, as the routes that make tasks and events get them. */
export interface Activity {
  readonly tasks: TaskRegistry;
  readonly events: EventLog;
}

/** The NetworkTrial `onChange` that turns each trial into a `network.apply` task and its outcome into events. */
export function networkTrialActivity(tasks: TaskRegistry, events: EventLog): (s: TrialState) => void {
  let settle: ((s: TrialState) => void) | null = null;
  return (s) => {
    if ((s.state === "applying" || (s.state === "pending" && s.message === "resumed after a restart")) && !settle) {
      const ended = new Promise<TrialState>((resolve) => {
        settle = resolve;
      });
      void tasks
        .run({ kind: "network.apply", title: "Change the management network", target: "network" }, async (t) => {
          t.progress(null, "applying the new settings");
          const end = await ended;
          if (end.state !== "confirmed") throw new Error(end.message ?? `the change was ${end.state}`);
        })
        .catch(() => undefined);
      return;
    }
    if (s.state === "pending" && s.deadline) {
      void events.record({ severity: "info", kind: "network.trial", message: `The new management network settings are applied on trial: confirm them before ${s.deadline} or they revert`, subject: "network" }).catch(() => undefined);
    }
    if (s.state === "confirmed" || s.state === "reverted" || s.state === "failed") {
      const done = settle;
      settle = null;
      done?.(s);
    }
  };
}

const LIFECYCLE: Record<string, { kind: string; severity: "info" | "warning" | "error"; verb: string }> = {
  Defined: { kind: "vm.defined", severity: "info", verb: "was defined" },
  Undefined: { kind: "vm.undefined", severity: "info", verb: "was removed" },
  Started: { kind: "vm.started", severity: "info", verb: "started" },
  Suspended: { kind: "vm.suspended", severity: "info", verb: "was paused" },
  Resumed: { kind: "vm.resumed", severity: "info", verb: "resumed" },
  Stopped: { kind: "vm.stopped", severity: "info", verb: "stopped" },
  Shutdown: { kind: "vm.shutdown", severity: "info", verb: "is shutting down" },
  PMSuspended: { kind: "vm.suspended", severity: "info", verb: "was suspended by its guest" },
  Crashed: { kind: "vm.crashed", severity: "error", verb: "crashed" },
};

/** An event for a libvirt lifecycle change; null for changes not worth a line (the guest's own "shutting down" step). */
export function lifecycleEvent(e: DomainLifecycle): Parameters<EventLog["record"]>[0] | null {
  const m = LIFECYCLE[e.event];
  if (!m || e.event === "Shutdown") return null;
  const failed = e.event === "Stopped" && (e.detail === "Failed" || e.detail === "Crashed");
  const how =
    e.event === "Stopped" && e.detail
      ? { Shutdown: " (shut down by its guest)", Destroyed: " (powered off)", Crashed: " (crashed)", Failed: " (QEMU failed)", Migrated: " (migrated away)", Saved: " (saved)" }[e.detail] ?? ""
      : "";
  return {
    severity: failed ? "error" : m.severity,
    kind: failed ? "vm.failed" : m.kind,
    message: `VM ${e.name} ${m.verb}${how}`,
    subject: `vm:${e.name}`,
  };
}

/** Records the last rollback once: at start, a rollback with a time no event has named yet. */
export async function recordRollback(status: UpdateStatus, events: EventLog): Promise<void> {
  const r = status.lastRollback;
  if (!r) return;
  const seen = events.query({ subject: "node", limit: 2000 }).some((e) => e.kind === "update.rollback" && e.message.includes(r.at));
  if (seen) return;
  await events.record({ severity: "error", kind: "update.rollback", message: `The node rolled back to the other system slot at ${r.at}: ${r.reason}`, subject: "node" });
}
