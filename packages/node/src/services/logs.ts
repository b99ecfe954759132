/**
 * @module services/logs
 * The node's logs for the API: every `/var/log/quantix/*.log` (qx-node, the boot
 * services, udhcpc...) and the kernel ring buffer (`/dev/kmsg`). Recent lines are read
 * from the end of a file; a follow polls once a second while someone listens (nothing
 * runs when nobody does) and survives truncation.
 *
 * @example
 * ```ts
 * const logs = nodeLogs("/");
 * await logs.recent("kernel", 100);
 * const stop = logs.follow("qx-node", (lines) => send(lines));
 * ```
 */
import { constants, promises as fs } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { ConflictError, NotFoundError } from "../api/http-errors.ts";

export const LOG_DIR = "var/log/quantix";
export const KMSG = "dev/kmsg";
export const KERNEL = "kernel";
/** Bytes read from the end of a file for recent lines. */
const TAIL_BYTES = 512 * 1024;
/** Most bytes one follow tick reads (a burst beyond it is skipped, with a marker line). */
const FOLLOW_CHUNK = 1024 * 1024;
export const MAX_FOLLOWERS = 16;

export const LogSourceName = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "expected a log name such as qx-node or kernel");
export const LogSource = z.object({ name: z.string(), kind: z.enum(["file", "kernel"]), sizeBytes: z.number().nullable() });
export type LogSource = z.infer<typeof LogSource>;

/** A /dev/kmsg record (`6,339,5140900,-;text`) as `[    5.140900] text`; continuation lines are dropped. */
export function formatKmsg(record: string): string | null {
  if (record.startsWith(" ")) return null;
  const m = /^(\d+),(\d+),(\d+),[^;]*;(.*)$/.exec(record);
  if (!m) return record || null;
  const us = Number(m[3]);
  const secs = `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, "0")}`;
  return `[${secs.padStart(12)}] ${m[4]}`;
}

/** Reads every record available on an open non-blocking kmsg descriptor (or a file, in tests). */
async function drain(fh: fs.FileHandle): Promise<string[]> {
  const out: string[] = [];
  const buf = Buffer.alloc(16 * 1024);
  for (;;) {
    let n: number;
    try {
      n = (await fh.read(buf, 0, buf.length, null)).bytesRead;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") break;
      if (code === "EPIPE") continue; // records were overwritten while reading: go on with the next
      throw e;
    }
    if (n === 0) break;
    for (const rec of buf.toString("utf8", 0, n).split("\n")) {
      const line = formatKmsg(rec);
      if (line !== null) out.push(line);
    }
  }
  return out;
}

const openKmsg = (path: string) => fs.open(path, constants.O_RDONLY | constants.O_NONBLOCK);

export interface NodeLogs {
  sources(): Promise<LogSource[]>;
  recent(source: string, lines: number): Promise<string[]>;
  /** Calls `onLines` with new lines as they come; returns a function that stops. */
  follow(source: string, onLines: (lines: string[]) => void, onError: (e: unknown) => void): Promise<() => void>;
}

export function nodeLogs(root: string, options: { pollMs?: number } = {}): NodeLogs {
  const dir = join(root, LOG_DIR);
  const kmsg = join(root, KMSG);
  const pollMs = options.pollMs ?? 1000;
  let followers = 0;

  async function sources(): Promise<LogSource[]> {
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const out: LogSource[] = [];
    for (const n of names.sort()) {
      if (!n.endsWith(".log")) continue;
      const st = await fs.stat(join(dir, n)).catch(() => null);
      if (st?.isFile() && LogSourceName.safeParse(n.slice(0, -4)).success) out.push({ name: n.slice(0, -4), kind: "file", sizeBytes: st.size });
    }
    out.push({ name: KERNEL, kind: "kernel", sizeBytes: null });
    return out;
  }

  /** The file of a source; the name was validated, and must be one {@link sources} lists. */
  async function fileOf(source: string): Promise<string> {
    const known = await sources();
    if (!known.some((s) => s.name === source)) throw new NotFoundError(`no log ${source}; see GET /api/v1/logs`);
    return join(dir, `${source}.log`);
  }

  async function recent(source: string, lines: number): Promise<string[]> {
    if (source === KERNEL) {
      const fh = await openKmsg(kmsg).catch(() => null);
      if (!fh) return [];
      try {
        return (await drain(fh)).slice(-lines);
      } finally {
        await fh.close();
      }
    }
    const fh = await fs.open(await fileOf(source), "r");
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, TAIL_BYTES);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      const all = buf.toString("utf8").split("\n");
      if (all.at(-1) === "") all.pop();
      if (len < size) all.shift(); // the first line is cut
      return all.slice(-lines);
    } finally {
      await fh.close();
    }
  }

  async function follow(source: string, onLines: (l: string[]) => void, onError: (e: unknown) => void): Promise<() => void> {
    if (followers >= MAX_FOLLOWERS) throw new ConflictError(`at most ${MAX_FOLLOWERS} log streams at once`);
    let tick: () => Promise<void>;
    let cleanup: () => Promise<void>;
    if (source === KERNEL) {
      const fh = await openKmsg(kmsg);
      await drain(fh); // from now on
      tick = async () => {
        const l = await drain(fh);
        if (l.length > 0) onLines(l);
      };
      cleanup = () => fh.close();
    } else {
      const path = await fileOf(source);
      let pos = (await fs.stat(path)).size;
      let partial = "";
      tick = async () => {
        const st = await fs.stat(path).catch(() => null);
        if (!st) return;
        if (st.size < pos) pos = 0; // truncated or replaced
        if (st.size === pos) return;
        const out: string[] = [];
        if (st.size - pos > FOLLOW_CHUNK) {
          out.push(`[... ${st.size - pos - FOLLOW_CHUNK} bytes skipped ...]`);
          pos = st.size - FOLLOW_CHUNK;
          partial = "";
        }
        const fh = await fs.open(path, "r");
        try {
          const buf = Buffer.alloc(st.size - pos);
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          pos += bytesRead;
          const parts = (partial + buf.toString("utf8", 0, bytesRead)).split("\n");
          partial = parts.pop() ?? "";
          out.push(...parts);
        } finally {
          await fh.close();
        }
        if (out.length > 0) onLines(out);
      };
      cleanup = async () => {};
    }
    followers++;
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      tick().then(
        () => {
          running = false;
        },
        (e: unknown) => {
          running = false;
          onError(e);
        },
      );
    }, pollMs);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      followers--;
      clearInterval(timer);
      void cleanup().catch(() => undefined);
    };
  }

  return { sources, recent, follow };
}
