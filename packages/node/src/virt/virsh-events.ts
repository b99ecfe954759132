/**
 * @module virt/virsh-events
 * Watches libvirt's domain events (`virsh event --all --loop`, one long-lived process)
 * and reports which domain changed, so that cached domain XML (virt/domain-cache) is
 * dropped when anything, qx-node or an admin's `virsh edit` in a shell, defines,
 * starts, stops, hot-plugs or renames a domain. When the watcher dies, says something
 * on stderr (libvirtd went away) or prints a line this module cannot read, it reports
 * "everything changed" and is started again on the next {@link VirshEvents.watching}.
 *
 * virsh does not say when its registration with libvirtd is done, so the watcher
 * counts as watching only {@link SETTLE_MS} after it was started (it registers within
 * tens of milliseconds; the margin is for a loaded host). The process ends with
 * qx-node: a small `sh` wrapper kills it when its stdin, a pipe from this process,
 * reaches end of file.
 *
 * @example
 * ```ts
 * const ev = new VirshEvents("qemu:///system", { onChange: (name) => cache.invalidate(name) });
 * if (ev.watching()) useCache();
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { DomainLifecycle } from "./hypervisor.ts";

/** How long after its start the watcher is trusted to have registered. */
export const SETTLE_MS = 1000;

// `$$` is the shell that execs virsh: the background reader kills virsh when fd 3 (our
// pipe) ends. The reader reads fd 3 because a background job's stdin is /dev/null.
const WRAPPER = 'exec 3<&0; (read -r _ <&3; kill $$) >/dev/null 2>&1 & exec virsh -q -c "$1" event --all --loop 3<&-';

/**
 * The domains named by one line of `virsh event` output; null when the line cannot be
 * read (the caller then forgets everything). A name containing `': ` is ambiguous in
 * virsh's format, so every possible split is returned.
 */
export function eventDomains(line: string): string[] | null {
  const m = /^event '[^']*' for domain '/.exec(line);
  if (!m) return null;
  const rest = line.slice(m[0].length);
  const names: string[] = [];
  for (let i = rest.indexOf("': "); i >= 0; i = rest.indexOf("': ", i + 1)) names.push(rest.slice(0, i));
  if (rest.endsWith("':")) names.push(rest.slice(0, -2));
  return names.length > 0 ? names : null;
}

const LIFECYCLE_EVENTS = ["Defined", "Undefined", "Started", "Suspended", "Resumed", "Stopped", "Shutdown", "PMSuspended", "Crashed"];

/**
 * The lifecycle change in one line of `virsh event` output
 * (`event 'lifecycle' for domain 'web01': Stopped Shutdown`), or null for other lines.
 */
export function lifecycleOf(line: string): DomainLifecycle | null {
  const prefix = "event 'lifecycle' for domain '";
  if (!line.startsWith(prefix)) return null;
  const rest = line.slice(prefix.length);
  // The name may hold "': " itself: the split that leaves a known event word wins.
  for (let i = rest.lastIndexOf("': "); i >= 0; i = i === 0 ? -1 : rest.lastIndexOf("': ", i - 1)) {
    const [event = "", ...detail] = rest.slice(i + 3).trim().split(/\s+/);
    if (LIFECYCLE_EVENTS.includes(event)) return { name: rest.slice(0, i), event, detail: detail.length > 0 ? detail.join(" ") : null };
  }
  return null;
}

export interface VirshEventsOptions {
  /** A domain changed (its name), or null: anything may have changed. */
  readonly onChange: (name: string | null) => void;
  /** A lifecycle change (started, stopped, crashed...). */
  readonly onLifecycle?: (e: DomainLifecycle) => void;
  readonly env?: Record<string, string>;
  readonly settleMs?: number;
}

export class VirshEvents {
  private child: ChildProcess | null = null;
  private startedAt = 0;
  private buf = "";

  constructor(
    private readonly uri: string,
    private readonly o: VirshEventsOptions,
  ) {}

  /** Starts the watcher when it is not running; true once it is registered (see the module comment). */
  watching(): boolean {
    if (!this.child) this.start();
    return this.child !== null && performance.now() - this.startedAt >= (this.o.settleMs ?? SETTLE_MS);
  }

  /** Stops the watcher (started again by the next {@link watching}). */
  close(): void {
    const child = this.child;
    this.child = null;
    if (!child) return;
    child.kill();
    child.stdin?.end();
  }

  private start(): void {
    const child = spawn("sh", ["-c", WRAPPER, "sh", this.uri], { env: this.o.env ? { ...process.env, ...this.o.env } : process.env, stdio: ["pipe", "pipe", "pipe"] });
    this.child = child;
    this.startedAt = performance.now();
    this.buf = "";
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s?.unref?.();
    const broken = () => {
      if (this.child !== child) return;
      this.close();
      this.o.onChange(null);
    };
    child.stdout?.on("data", (d: Buffer) => {
      if (this.child !== child) return;
      this.buf += d.toString("utf8");
      const lines = this.buf.split("\n");
      this.buf = lines.pop() ?? "";
      for (const line of lines) {
        if (!line.trim()) continue;
        const names = eventDomains(line);
        if (!names) this.o.onChange(null);
        else for (const n of names) this.o.onChange(n);
        const life = this.o.onLifecycle ? lifecycleOf(line) : null;
        if (life) this.o.onLifecycle?.(life);
      }
    });
    child.stderr?.on("data", broken);
    child.on("error", broken);
    child.on("exit", broken);
    child.stdin?.on("error", () => undefined);
  }
}
