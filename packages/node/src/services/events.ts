/**
 * @module services/events
 * The node's event log, as the ESXi Host Client's "Events" and Proxmox's cluster log
 * keep one: VM state changes (from libvirt), failed logins, updates and rollbacks,
 * the end of every task. Each event has a sequence number that only grows (across
 * restarts too), a time, a severity, a dotted kind (`vm.stopped`, `auth.login-failed`),
 * a sentence for people and what it is about (a VM, a volume, the node).
 *
 * Kept across restarts on the config partition, which is mounted from the initramfs
 * on, before anything can happen: one JSON line per event appended to `events.jsonl`,
 * flushed to disk before {@link EventLog.record} resolves. The log is size-bound: when
 * the file would pass {@link EventLogOptions.maxFileBytes} it becomes `events.jsonl.1`
 * (replacing the one before) and a new file starts, so at most twice that is on disk.
 * A line that cannot be read (a torn write at a power cut) is skipped on load.
 *
 * Appends are serialized through one {@link Mutex}: concurrent records never
 * interleave their lines or share a sequence number. Without a writable directory the
 * log keeps working in memory and says so once.
 *
 * @example
 * ```ts
 * const log = new EventLog({ file: "/quantix/events.jsonl", now: Date.now });
 * await log.load();
 * await log.record({ severity: "warning", kind: "auth.login-failed", message: "Failed login for admin from 10.0.0.5" });
 * log.query({ limit: 50 });
 * ```
 */
import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { Mutex } from "@quantix/core";
import { z } from "zod";

export const Severity = z.enum(["info", "warning", "error"]);
export type Severity = z.infer<typeof Severity>;

export const NodeEvent = z.object({
  /** Sequence number: grows by one per event, across restarts. */
  id: z.number().int().positive(),
  /** ISO 8601 time. */
  time: z.string(),
  severity: Severity,
  /** Dotted kind: `vm.started`, `auth.login-failed`, `update.rollback`, `task.failed`... */
  kind: z.string(),
  /** What happened, as a sentence. */
  message: z.string(),
  /** What it is about: `vm:NAME`, `volume:NAME`, `node`, `network`. */
  subject: z.string().nullable(),
  /** Who did it: `admin` (a session), `token:ID`, `root` (the console), or null (the system). */
  actor: z.string().nullable(),
});
export type NodeEvent = z.infer<typeof NodeEvent>;

export type EventInput = Omit<NodeEvent, "id" | "time" | "subject" | "actor"> & { subject?: string | null; actor?: string | null };

export interface EventQuery {
  /** Only events with an id above this (the last one a client has). */
  readonly since?: number;
  /** At most this many, the newest ones (default 200). */
  readonly limit?: number;
  /** This severity or worse. */
  readonly severity?: Severity;
  /** Only this subject (`vm:web01`). */
  readonly subject?: string;
}

export interface EventLogOptions {
  readonly file: string;
  readonly now?: () => number;
  /** Size at which the file is rotated (default 512 KiB: at most 1 MiB on disk). */
  readonly maxFileBytes?: number;
  /** Events kept in memory for queries (default 2000). */
  readonly keep?: number;
  readonly log?: (msg: string) => void;
}

const RANK: Record<Severity, number> = { info: 0, warning: 1, error: 2 };

export class EventLog {
  private readonly events: NodeEvent[] = [];
  private readonly lock = new Mutex();
  private readonly listeners = new Set<(e: NodeEvent) => void>();
  private nextId = 1;
  private fileBytes = 0;
  private persist = true;
  private closed = false;

  constructor(private readonly o: EventLogOptions) {}

  private get maxBytes(): number {
    return this.o.maxFileBytes ?? 512 * 1024;
  }
  private get keep(): number {
    return this.o.keep ?? 2000;
  }

  /** Reads the events kept on disk (the rotated file first). */
  async load(): Promise<void> {
    await this.lock.run(async () => {
      const found: NodeEvent[] = [];
      for (const path of [`${this.o.file}.1`, this.o.file]) {
        const text = await fs.readFile(path, "utf8").catch(() => "");
        if (path === this.o.file) this.fileBytes = Buffer.byteLength(text);
        for (const line of text.split("\n")) {
          if (!line.trim()) continue;
          try {
            const e = NodeEvent.safeParse(JSON.parse(line));
            if (e.success) found.push(e.data);
          } catch {
            // a torn line from a power cut: skipped
          }
        }
      }
      found.sort((a, b) => a.id - b.id);
      this.events.splice(0, this.events.length, ...found.slice(-this.keep));
      this.nextId = Math.max(this.nextId, (found.at(-1)?.id ?? 0) + 1);
    });
  }

  /** Appends an event; resolves once it is on disk (or in memory only, when the disk refuses). */
  async record(input: EventInput): Promise<NodeEvent> {
    return this.lock.run(async () => {
      const event: NodeEvent = {
        id: this.nextId,
        time: new Date((this.o.now ?? Date.now)()).toISOString(),
        severity: input.severity,
        kind: input.kind,
        message: input.message.slice(0, 1000),
        subject: input.subject ?? null,
        actor: input.actor ?? null,
      };
      this.nextId++;
      if (this.persist && !this.closed) await this.append(`${JSON.stringify(event)}\n`);
      this.events.push(event);
      if (this.events.length > this.keep) this.events.splice(0, this.events.length - this.keep);
      for (const l of this.listeners) {
        try {
          l(event);
        } catch {
          // a listener's failure is its own
        }
      }
      return event;
    });
  }

  private async append(line: string): Promise<void> {
    try {
      const bytes = Buffer.byteLength(line);
      if (this.fileBytes > 0 && this.fileBytes + bytes > this.maxBytes) {
        await fs.rename(this.o.file, `${this.o.file}.1`);
        this.fileBytes = 0;
      }
      await fs.mkdir(dirname(this.o.file), { recursive: true });
      const fh = await fs.open(this.o.file, "a", 0o600);
      try {
        await fh.write(line);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      this.fileBytes += bytes;
    } catch (e) {
      this.persist = false;
      this.o.log?.(`events: cannot write ${this.o.file} (${e instanceof Error ? e.message : String(e)}): the event log is kept in memory only until qx-node restarts`);
    }
  }

  /** The newest events matching `q`, oldest first. */
  query(q: EventQuery = {}): NodeEvent[] {
    const min = q.severity ? RANK[q.severity] : 0;
    const out = this.events.filter(
      (e) => (q.since === undefined || e.id > q.since) && RANK[e.severity] >= min && (q.subject === undefined || e.subject === q.subject),
    );
    return out.slice(-(q.limit ?? 200));
  }

  /** Waits for the writes under way; later events are kept in memory only (qx-node is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    await this.lock.run(() => undefined);
  }

  /** Calls `listener` with every new event; returns the unsubscribe function. */
  subscribe(listener: (e: NodeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The id the next event will get (a client that has everything passes `since = next - 1`). */
  get lastId(): number {
    return this.nextId - 1;
  }
}
