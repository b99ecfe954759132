#!/usr/bin/env node
/**
 * @module main
 * The `qx-node` command: argument parsing over the library, nothing else.
 *
 *   qx-node serve [--root DIR] [--port N] [--socket PATH]
 *   qx-node health [--json] [--socket PATH]      exit 0 healthy, 1 degraded, 2 unreachable
 *   qx-node fingerprint [--root DIR]
 *   qx-node set-admin-password [--root DIR]     new password on stdin (console recovery; the DCUI uses the socket)
 *   qx-node reconcile-networks [--root DIR]     make Open vSwitch match network.yaml's bridges (OpenRC quantix-vswitch)
 */
import { join } from "node:path";
import { configPaths, loadDefaults } from "@quantix/core";
import { Command, InvalidArgumentError } from "commander";
import { pino } from "pino";
import { getLocal } from "./client.ts";
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

function socketFor(root: string, given?: string): string {
  return given ?? join(root, DEFAULT_SOCKET);
}

const program = new Command("qx-node")
  .description("Quantix-OS node daemon: the node's HTTPS API and its local socket")
  .showHelpAfterError();

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
  .option("--port <n>", "HTTPS port (default: api.port of /etc/quantix/defaults.yaml)", portNumber)
  .option("--socket <path>", `unix socket (default: ROOT${DEFAULT_SOCKET})`)
  .action(async (opts: { root: string; port?: number; socket?: string }) => {
    const logger = pino({ name: "qx-node" });
    const ctx = nodeContext({ root: opts.root });
    const port = opts.port ?? (await loadDefaults(opts.root)).api.port;
    const srv = await startServer({ ctx, port, socketPath: socketFor(opts.root, opts.socket), logger });
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
  .description("ask the running daemon how the node is (exit 0 healthy, 1 degraded, 2 unreachable)")
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

program
  .command("set-admin-password")
  .description("set the web UI / API admin password from stdin (at the console, as root)")
  .option("--root <dir>", "filesystem root", "/")
  .action(async (opts: { root: string }) => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
    const r = Password.safeParse(password);
    if (!r.success) throw new Error(`password: ${r.error.issues[0]?.message ?? "invalid"}`);
    await new AuthStore(join(configPaths(opts.root).dir, "auth")).setAdminPassword(password);
    await removeInitialPassword(opts.root);
    process.stdout.write("admin password set (sessions already open stay valid until they expire or qx-node restarts)\n");
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-node: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
