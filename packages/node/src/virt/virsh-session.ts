/**
 * @module virt/virsh-session
 * One long-lived `virsh` shell for read-only queries (list, get), so that they cost a
 * round trip to libvirtd (about a millisecond) instead of a new process and connection
 * each (tens of milliseconds). Commands are written to virsh's stdin followed by
 * `echo <marker>`; the answer is the stdout up to the marker, without the command
 * lines virsh echoes after its prompt. Calls are serialized. When the shell dies or stalls, the pending call
 * fails with {@link VirshSessionError}, the shell is restarted on the next call, and the
 * caller falls back to a one-shot `virsh` (which reports libvirt's errors properly).
 *
 * @example
 * ```ts
 * const s = new VirshSession("qemu:///system");
 * const out = await s.run(["list --all"]);
 * ```
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";

/** The shell died, stalled or could not start; the caller should fall back. */
export class VirshSessionError extends Error {
  override name = "VirshSessionError";
}

/** Longest marker (see exec): QX-END-<pid>-<seq>-QX. */
const MARKER_MAX = 64;

export class VirshSession {
  private child: ChildProcessWithoutNullStreams | null = null;
  private out: string[] = [];
  private tail = "";
  private err = "";
  private seq = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private waiter: { marker: string; resolve: (s: string) => void; reject: (e: Error) => void } | null = null;

  constructor(
    private readonly uri: string,
    private readonly o: { env?: Record<string, string>; timeoutMs?: number } = {},
  ) {}

  /** Runs `commands` (each a virsh command line, no newlines) and returns their stdout. */
  run(commands: readonly string[]): Promise<string> {
    if (commands.some((c) => /[\r\n]/.test(c))) return Promise.reject(new VirshSessionError("a command contains a newline"));
    const p = this.chain.then(() => this.exec(commands));
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Stops the shell (it is started again by the next call). */
  close(): void {
    this.child?.kill();
    this.child = null;
  }

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn("virsh", ["-q", "-c", this.uri], { env: this.o.env ? { ...process.env, ...this.o.env } : process.env, stdio: ["pipe", "pipe", "pipe"] });
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr] as unknown as { unref?: () => void }[]) s.unref?.();
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      // virsh writes a long answer line by line: the chunks are kept apart and only the
      // new one (plus the end of the one before) is searched for the marker. Searching
      // the growing answer on every chunk would flatten and scan it each time.
      const probe = this.tail + text;
      this.tail = probe.slice(-MARKER_MAX);
      this.out.push(text);
      const w = this.waiter;
      if (!w || !probe.includes(w.marker)) return;
      const all = this.out.join("");
      const at = all.indexOf(w.marker);
      // Without a terminal virsh still echoes each command after its prompt: drop those lines.
      const answer = all.slice(0, at).replace(/virsh # [^\n]*\n/g, "");
      const rest = all.slice(at + w.marker.length);
      this.out = rest ? [rest] : [];
      this.tail = rest.slice(-MARKER_MAX);
      this.waiter = null;
      w.resolve(answer);
    });
    child.stderr.on("data", (d: Buffer) => {
      this.err = (this.err + d.toString("utf8")).slice(-4000);
    });
    const fail = (why: string) => {
      if (this.child === child) this.child = null;
      const w = this.waiter;
      this.waiter = null;
      w?.reject(new VirshSessionError(`virsh shell ${why}: ${this.err.trim().split("\n").pop() ?? ""}`));
    };
    child.on("error", (e) => fail(`failed: ${e.message}`));
    child.on("exit", (code) => fail(`exited (${code})`));
    child.stdin.on("error", () => undefined);
    this.out = [];
    this.tail = "";
    this.err = "";
    return child;
  }

  private exec(commands: readonly string[]): Promise<string> {
    this.child ??= this.start();
    const child = this.child;
    const marker = `QX-END-${process.pid}-${++this.seq}-QX`;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        child.kill();
        if (this.child === child) this.child = null;
        reject(new VirshSessionError(`virsh shell did not answer within ${this.o.timeoutMs ?? 30_000} ms`));
      }, this.o.timeoutMs ?? 30_000);
      this.waiter = {
        marker,
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      this.err = "";
      // The marker is quoted in two halves so that the echoed command line does not contain it.
      child.stdin.write(`${commands.join("\n")}\necho ${marker.slice(0, 6)}"${marker.slice(6)}"\n`);
    });
  }
}
