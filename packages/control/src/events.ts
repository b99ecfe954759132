/**
 * @module events
 * The cluster's event log in etcd (`events/<time>-<random>`): joins, removals, nodes going
 * NotReady and Ready again, certificate renewals. Keys sort by time; the controller leader
 * keeps the newest {@link MAX_EVENTS}.
 */
import { randomBytes } from "node:crypto";
import type { Store } from "./etcd/store.ts";
import { KEYS } from "./model.ts";

export const MAX_EVENTS = 5000;

export interface EventRecord {
  readonly id: string;
  readonly time: string;
  readonly subject: string;
  readonly type: string;
  readonly message: string;
}

export class EventLog {
  constructor(readonly store: Store) {}

  /** Makes a record to write inside a caller's transaction. */
  record(e: Omit<EventRecord, "id" | "time">, now = new Date()): EventRecord {
    const time = now.toISOString();
    return { id: `${time}-${randomBytes(3).toString("hex")}`, time, ...e };
  }

  async append(e: Omit<EventRecord, "id" | "time">, now = new Date()): Promise<EventRecord> {
    const rec = this.record(e, now);
    await this.store.put(KEYS.event(rec.id), rec);
    return rec;
  }

  /** Newest first; `subject` filters (e.g. `node:quantix-02`). */
  async list(o: { subject?: string; limit?: number } = {}): Promise<EventRecord[]> {
    const all = (await this.store.list<EventRecord>(KEYS.events)).map((e) => e.value);
    const f = o.subject ? all.filter((e) => e.subject === o.subject) : all;
    return f.reverse().slice(0, o.limit ?? 200);
  }

  /** Deletes the oldest events beyond MAX_EVENTS. */
  async prune(max = MAX_EVENTS): Promise<number> {
    const all = await this.store.list<EventRecord>(KEYS.events);
    const extra = all.slice(0, Math.max(0, all.length - max));
    for (const e of extra) await this.store.delete(e.key);
    return extra.length;
  }
}
