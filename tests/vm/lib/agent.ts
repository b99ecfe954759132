/**
 * @module tests/vm/lib/agent
 * Talks to qemu-guest-agent inside the guest over its virtio-serial channel (a unix
 * socket on the host): run a command and collect its exit code and output. The
 * channel exists only in a VM started by the harness; on hardware there is no port
 * and the agent does not run.
 */
import { connect, type Socket } from "node:net";

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class GuestAgent {
  constructor(private readonly socketPath: string) {}

  private async request(sock: Socket, msg: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      let buf = "";
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`guest agent: no answer to ${String(msg.execute)} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onData = (d: Buffer) => {
        buf += d.toString("utf8");
        const nl = buf.indexOf("\n");
        if (nl < 0) return;
        cleanup();
        try {
          resolve(JSON.parse(buf.slice(0, nl)) as Record<string, unknown>);
        } catch (e) {
          reject(e);
        }
      };
      const cleanup = () => {
        clearTimeout(timer);
        sock.off("data", onData);
      };
      sock.on("data", onData);
      sock.write(`${JSON.stringify(msg)}\n`);
    });
  }

  private async open(timeoutMs: number): Promise<Socket> {
    const sock = await new Promise<Socket>((resolve, reject) => {
      const s = connect(this.socketPath, () => resolve(s));
      s.once("error", reject);
    });
    // Resynchronise: guest-sync-delimited makes the agent flush stale input.
    const id = Math.floor(Math.random() * 2 ** 31);
    const r = await this.request(sock, { execute: "guest-sync", arguments: { id } }, timeoutMs);
    if (r.return !== id) throw new Error(`guest agent: bad sync reply ${JSON.stringify(r)}`);
    return sock;
  }

  /** Waits until the agent answers (the guest has booted far enough). */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        const s = await this.open(3000);
        s.destroy();
        return;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    throw new Error(`guest agent not ready after ${timeoutMs} ms: ${String(last)}`);
  }

  /** Runs `sh -c script` in the guest as root. */
  async sh(script: string, timeoutMs = 60_000): Promise<ExecResult> {
    const sock = await this.open(10_000);
    try {
      const r = await this.request(
        sock,
        { execute: "guest-exec", arguments: { path: "/bin/sh", arg: ["-c", script], "capture-output": true } },
        10_000,
      );
      const pid = (r.return as { pid?: number } | undefined)?.pid;
      if (pid === undefined) throw new Error(`guest-exec failed: ${JSON.stringify(r)}`);
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = (await this.request(sock, { execute: "guest-exec-status", arguments: { pid } }, 10_000)).return as {
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
        if (Date.now() > deadline) throw new Error(`guest command still running after ${timeoutMs} ms: ${script}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    } finally {
      sock.destroy();
    }
  }

  /** Like {@link sh} but throws on a non-zero exit. */
  async check(script: string, timeoutMs?: number): Promise<string> {
    const r = await this.sh(script, timeoutMs);
    if (r.exitCode !== 0) throw new Error(`guest: \`${script}\` exited ${r.exitCode}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }
}
