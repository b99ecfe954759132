/**
 * @module history
 * The update history in `/quantix/update/history.json`: every install, good mark
 * and rollback with its reason, newest last. Written atomically (temp + fsync +
 * rename); a damaged file is set aside and a new one started.
 *
 * @example
 * ```ts
 * await appendHistory(path, { kind: "rollback", slot: "B", version: "1.1.0", reason: "health:ovs" });
 * ```
 */
import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "@quantix/core";

export const HISTORY_KEEP = 100;

export type HistoryKind = "install-started" | "installed" | "good" | "rollback" | "manual-rollback" | "env-repaired";

export interface HistoryEvent {
  readonly at: string;
  readonly kind: HistoryKind;
  readonly slot: string;
  readonly version: string | null;
  /** Why (rollbacks: `health:<components>`, `boot-incomplete`, ...). */
  readonly reason?: string | null;
  /** Seconds from the start of the step, when measured. */
  readonly seconds?: number;
}

export async function readHistory(path: string): Promise<HistoryEvent[]> {
  let text: string;
  try {
    text = await fs.readFile(path, "utf8");
  } catch {
    return [];
  }
  try {
    const doc = JSON.parse(text) as { events?: HistoryEvent[] };
    return Array.isArray(doc.events) ? doc.events : [];
  } catch {
    await fs.rename(path, `${path}.damaged`).catch(() => undefined);
    return [];
  }
}

export async function appendHistory(path: string, event: Omit<HistoryEvent, "at"> & { at?: string }): Promise<HistoryEvent> {
  const full: HistoryEvent = { at: new Date().toISOString(), ...event };
  const events = [...(await readHistory(path)), full].slice(-HISTORY_KEEP);
  await fs.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, `${JSON.stringify({ events }, null, 2)}\n`);
  return full;
}

/** The newest rollback (automatic or manual), if any. */
export function lastRollback(events: readonly HistoryEvent[]): HistoryEvent | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i] as HistoryEvent;
    if (e.kind === "rollback" || e.kind === "manual-rollback") return e;
  }
  return null;
}
