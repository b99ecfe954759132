/**
 * @module tests/vm/lib/agent
 * Talks to qemu-guest-agent inside the guest over its virtio-serial channel (a unix
 * socket on the host): run a command and collect its exit code and output. The
 * channel exists only in a VM started by the harness; on hardware there is no port
 * and the agent does not run.
 *
 * One connection is kept for the VM's life: QEMU's chardev accepts one client and,
 * while the guest has not opened the port, never notices a client that left, so
 * reconnecting would queue up. Requests go one at a time; every exchange starts with
 * a 0xFF byte + `guest-sync-delimited`, which resets the agent's parser and lets us
 * skip replies to requests an earlier (rebooted) agent never finished.
 */
import { connect, type Socket } from "node:net";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

type Reply = Record<string, unknown>;

export class GuestAgent {
  private sock: Socket | undefined;
  private buf = "";
  private lines: Reply[] = [];
  private notify: (() => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly socketPath: string) {}

  private async socket(): Promise<Socket> {
    if (this.sock && !this.sock.destroyed) return this.sock;
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.socketPath, () => resolve(s));
      s.once("error", reject);
    });
    sock.on("error", () => undefined);
    sock.on("close", () => {
      if (this.sock === sock) this.sock = undefined;
    });
    sock.on("data", (d: Buffer) => {
      this.buf += d.toString("latin1").replace(/\xff/g, "");
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (!line) continue;
        try {
          this.lines.push(JSON.parse(line) as Reply);
        } catch {
          /* a partial line from before a reset */
        }
      }
      this.notify?.();
    });
    this.sock = sock;
    return sock;
  }

  /** Next reply accepted by `accept`, skipping others, within `timeoutMs`. */
  private async reply(accept: (r: Reply) => boolean, timeoutMs: number): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.lines.length) {
        const r = this.lines.shift() as Reply;
        if (accept(r)) return r;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("guest agent: no answer");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.notify = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.notify = undefined;
    }
  }

  private async exchange(msg: Reply, timeoutMs: number): Promise<Reply> {
    const sock = await this.socket();
    const id = Math.floor(Math.random() * 2 ** 31);
    this.lines = [];
    sock.write(Buffer.from([0xff]));
    sock.write(`${JSON.stringify({ execute: "guest-sync-delimited", arguments: { id } })}\n`);
    await this.reply((r) => r.return === id, Math.min(timeoutMs, 3000));
    sock.write(`${JSON.stringify(msg)}\n`);
    return this.reply(() => true, timeoutMs);
  }

  /** Serialises exchanges: one request in flight on the shared connection. */
  private call(msg: Reply, timeoutMs: number): Promise<Reply> {
    const next = this.queue.then(
      () => this.exchange(msg, timeoutMs),
      () => this.exchange(msg, timeoutMs),
    );
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Waits until the agent answers (the guest has booted far enough). */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        await this.call({ execute: "guest-ping" }, 3000);
        return;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    throw new Error(`guest agent not ready after ${timeoutMs / 1000} s: ${String(last)}`);
  }

  /** Runs `sh -c script` in the guest as root. */
  async sh(script: string, timeoutMs = 60_000): Promise<ExecResult> {
    const r = await this.call({ execute: "guest-exec", arguments: { path: "/bin/sh", arg: ["-c", script], "capture-output": true } }, 10_000);
    const pid = (r.return as { pid?: number } | undefined)?.pid;
    if (pid === undefined) throw new Error(`guest-exec failed: ${JSON.stringify(r)}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = (await this.call({ execute: "guest-exec-status", arguments: { pid } }, 10_000)).return as {
        exited: boolean;
        exitcode?: number;
        "out-data"?: string;
        "err-data"?: string;
      };
      if (s.exited) {
        return {
          exitCode: s.exitcode ?? -1,
          stdout: Buffer.from(s["out-data"] ?? "", "base64").toString("utf8"),
          stderr: Buffer.from(s["err-data"] ?? "", "base64").toString("utf8"),
        };
      }
      if (Date.now() > deadline) throw new Error(`guest command still running after ${timeoutMs / 1000} s: ${script}`);
      await new Promise((res) => setTimeout(res, 200));
    }
  }

  /** Like {@link sh} but throws on a non-zero exit. */
  async check(script: string, timeoutMs?: number): Promise<string> {
    const r = await this.sh(script, timeoutMs);
    if (r.exitCode !== 0) throw new Error(`guest: \`${script}\` exited ${r.exitCode}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** Drops the connection (when QEMU is stopped or restarted). */
  close(): void {
    this.sock?.destroy();
    this.sock = undefined;
  }
}
