#!/usr/bin/env node
/**
 * @module main
 * The `qx-node` command: argument parsing over the library, nothing else.
 *
 *   qx-node serve [--root DIR] [--listen ADDR] [--port N] [--socket PATH]
 *   qx-node health [--json] [--socket PATH]      exit 0 healthy, 1 degraded, 3 unreachable
 *   qx-node fingerprint [--root DIR]
 *   qx-node set-admin-password [--root DIR] [--revoke-tokens]   new password on stdin (console recovery); ends every session
 *   qx-node revoke-tokens [--root DIR]          revoke every API token
 *   qx-node reconcile-networks [--root DIR]     make Open vSwitch match network.yaml's bridges (OpenRC quantix-vswitch)
 */
import { writeFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { configPaths, loadDefaults } from "@quantix/core";
import { Command, InvalidArgumentError } from "commander";
import { conventions } from "@quantix/core/cli/conventions";
import { pino } from "pino";
import { callLocal, getLocal, NodeUnreachableError } from "./client.ts";
import { formatHealth, HEALTH_EXIT } from "./cli/health-report.ts";
import { nodeContext } from "./context.ts";
import { DEFAULT_SOCKET, startServer } from "./server.ts";
import { Password } from "./api/auth.ts";
import { AuthStore } from "./services/auth-store.ts";
import { readCertificate } from "./services/certificate.ts";
import { removeInitialPassword } from "./services/initial-password.ts";
import type { HealthDocument } from "./services/health.ts";
import { ovsBridges } from "./virt/ovs-bridges.ts";
import { reconcileBridges } from "./virt/vm-networks.ts";

function portNumber(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("expected a port number 1..65535");
  return n;
}

function listenAddress(v: string): string {
  const a = v.replace(/^\[(.*)\]$/, "$1");
  if (isIP(a) === 0) throw new InvalidArgumentError("expected an IPv4 or IPv6 address of this node (0.0.0.0: every IPv4 address, ::: every address)");
  return a;
}

/** Touched every 15 s by a running daemon (see serve). */
const ALIVE_FILE = "run/quantix/qx-node.alive";

function socketFor(root: string, given?: string): string {
  return given ?? join(root, DEFAULT_SOCKET);
}

const program = new Command("qx-node")
  .description("Quantix-OS node daemon: the node's HTTPS API and its local socket");

program
  .command("reconcile-networks")
  .description("make Open vSwitch match the bridges declared in /quantix/network.yaml (idempotent)")
  .option("--root <dir>", "filesystem root (tests and development)", "/")
  .action(async (opts: { root: string }) => {
    const ops = await reconcileBridges(opts.root, ovsBridges(process.env["QX_OVS_DB"] ? { db: process.env["QX_OVS_DB"] } : {}));
    process.stdout.write(ops.length === 0 ? "Open vSwitch matches network.yaml\n" : `${ops.map((o) => `ovs-vsctl ${o.join(" ")}`).join("\n")}\n`);
  });

program
  .command("serve")
  .description("run the daemon in the foreground (OpenRC supervises it)")
  .option("--root <dir>", "filesystem root (tests and development)", "/")
  .option("--listen <address>", "address the HTTPS API binds (default 0.0.0.0: every IPv4 address)", listenAddress, "0.0.0.0")
  .option("--port <n>", "HTTPS port (default: api.port of /etc/quantix/defaults.yaml)", portNumber)
  .option("--socket <path>", `unix socket (default: ROOT${DEFAULT_SOCKET})`)
  .action(async (opts: { root: string; listen: string; port?: number; socket?: string }) => {
    const logger = pino({ name: "qx-node" });
    const ctx = nodeContext({ root: opts.root });
    const port = opts.port ?? (await loadDefaults(opts.root)).api.port;
    const srv = await startServer({ ctx, host: opts.listen, port, socketPath: socketFor(opts.root, opts.socket), logger });
    // The liveness file supervise-daemon's healthcheck looks at (overlay/etc/init.d/quantix-node):
    // touched from the event loop, so a daemon that hangs stops touching it. No Node.js
    // start per check, as `qx-node health` would be (seconds of CPU each under emulation).
    const alive = join(opts.root, ALIVE_FILE);
    const beat = () => void writeFile(alive, `${Date.now()}\n`).catch(() => undefined);
    beat();
    setInterval(beat, 15_000).unref();
    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) return;
      closing = true;
      logger.info({ signal }, "shutting down");
      const force = setTimeout(() => process.exit(1), 10_000);
      force.unref();
      srv.close().then(
        () => process.exit(0),
        (e: unknown) => {
          logger.error({ err: e }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });

program
  .command("health")
  .description("ask the running daemon how the node is (exit 0 healthy, 1 degraded, 3 unreachable)")
  .option("--json", "print the health document as JSON")
  .option("--root <dir>", "filesystem root", "/")
  .option("--socket <path>", `unix socket (default: ROOT${DEFAULT_SOCKET})`)
  .action(async (opts: { json?: boolean; root: string; socket?: string }) => {
    try {
      const { body } = await getLocal<HealthDocument>(socketFor(opts.root, opts.socket), "/api/v1/health");
      process.stdout.write(opts.json ? `${JSON.stringify(body, null, 2)}\n` : formatHealth(body));
      process.exitCode = body.status === "healthy" ? HEALTH_EXIT.healthy : HEALTH_EXIT.degraded;
    } catch (e) {
      process.stderr.write(`qx-node health: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = HEALTH_EXIT.unreachable;
    }
  });

program
  .command("fingerprint")
  .description("print the SHA-256 fingerprint of the node's TLS certificate")
  .option("--root <dir>", "filesystem root", "/")
  .action(async (opts: { root: string }) => {
    const cert = await readCertificate(configPaths(opts.root).certificates);
    process.stdout.write(`${cert.fingerprint}\n`);
  });

/**
 * Asks the running daemon over its socket (it ends every session and lock-out at once);
 * when none answers, changes the files directly (no daemon: no sessions to end).
 */
async function viaDaemonOr<T>(socket: string, call: () => Promise<{ status: number; body: unknown }>, offline: () => Promise<T>): Promise<{ online: boolean; body: unknown }> {
  let r: { status: number; body: unknown };
  try {
    r = await call();
  } catch (e) {
    if (!(e instanceof NodeUnreachableError)) throw e;
    return { online: false, body: await offline() };
  }
  if (r.status !== 200) throw new Error(`qx-node refused (HTTP ${r.status}): ${(r.body as { message?: string })?.message ?? JSON.stringify(r.body)} (socket ${socket})`);
  return { online: true, body: r.body };
}

program
  .command("set-admin-password")
  .description("set the web UI / API admin password from stdin (at the console, as root); ends every session")
  .option("--root <dir>", "filesystem root", "/")
  .option("--socket <path>", `unix socket (default: ROOT${DEFAULT_SOCKET})`)
  .option("--revoke-tokens", "also revoke every API token")
  .action(async (opts: { root: string; socket?: string; revokeTokens?: boolean }) => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
    const r = Password.safeParse(password);
    if (!r.success) throw new Error(`password: ${r.error.issues[0]?.message ?? "invalid"}`);
    const socket = socketFor(opts.root, opts.socket);
    const store = () => new AuthStore(join(configPaths(opts.root).dir, "auth"));
    const done = await viaDaemonOr(
      socket,
      () => callLocal(socket, "POST", "/api/v1/auth/admin-password", { password, revokeTokens: Boolean(opts.revokeTokens) }, 30_000),
      async () => {
        await store().setAdminPassword(password);
        await removeInitialPassword(opts.root);
        if (!opts.revokeTokens) return { sessionsEnded: 0, tokensRevoked: 0 };
        const s = store();
        await s.loadTokens();
        return { sessionsEnded: 0, tokensRevoked: await s.revokeAllTokens() };
      },
    );
    const b = done.body as { sessionsEnded: number; tokensRevoked: number };
    process.stdout.write(
      `admin password set; ${done.online ? `${b.sessionsEnded} session(s) ended` : "qx-node is not running: no session was open"}; ` +
        `${opts.revokeTokens ? `${b.tokensRevoked} API token(s) revoked` : "API tokens still valid (--revoke-tokens revokes them)"}\n`,
    );
  });

program
  .command("revoke-tokens")
  .description("revoke every API token (sessions stay; a password reset ends those)")
  .option("--root <dir>", "filesystem root", "/")
  .option("--socket <path>", `unix socket (default: ROOT${DEFAULT_SOCKET})`)
  .action(async (opts: { root: string; socket?: string }) => {
    const socket = socketFor(opts.root, opts.socket);
    const done = await viaDaemonOr(
      socket,
      () => callLocal(socket, "DELETE", "/api/v1/auth/tokens"),
      async () => {
        const s = new AuthStore(join(configPaths(opts.root).dir, "auth"));
        await s.loadTokens();
        return { revoked: await s.revokeAllTokens() };
      },
    );
    process.stdout.write(`${(done.body as { revoked: number }).revoked} API token(s) revoked\n`);
  });

conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-node: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
