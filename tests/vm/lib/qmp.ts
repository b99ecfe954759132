/**
 * @module tests/vm/lib/qmp
 * A minimal QMP (QEMU Machine Protocol) client over a unix socket: capabilities
 * handshake, then one command at a time. Used for system_reset (reboot / power-cut
 * simulation), system_powerdown and quit.
 */
import { connect, type Socket } from "node:net";

export class QmpClient {
  private buf = "";
  private waiters: Array<(msg: Record<string, unknown>) => void> = [];
  readonly events: Record<string, unknown>[] = [];
  private constructor(private readonly sock: Socket) {
    sock.setEncoding("utf8");
    sock.on("data", (d: string) => {
      this.buf += d;
      let nl = this.buf.indexOf("\n");
      while (nl >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        nl = this.buf.indexOf("\n");
        if (!line) continue;
        const msg = JSON.parse(line) as Record<string, unknown>;
        if ("event" in msg) this.events.push(msg);
        else this.waiters.shift()?.(msg);
      }
    });
    sock.on("error", () => undefined);
  }

  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const sock = await new Promise<Socket>((resolve, reject) => {
          const s = connect(path, () => resolve(s));
          s.once("error", reject);
        });
        const c = new QmpClient(sock);
        await c.next(); // greeting
        await c.execute("qmp_capabilities");
        return c;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  private next(): Promise<Record<string, unknown>> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    const reply = this.next();
    this.sock.write(`${JSON.stringify(args ? { execute: command, arguments: args } : { execute: command })}\n`);
    const r = await reply;
    if ("error" in r) throw new Error(`QMP ${command}: ${JSON.stringify(r.error)}`);
    return r.return;
  }

  close(): void {
    this.sock.destroy();
  }
}
