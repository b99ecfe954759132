/**
 * @module server
 * The qx-node daemon's listeners: HTTPS on the network (TLS only, no plain-HTTP
 * port) and plain HTTP on a root-only unix socket for local tools such as the
 * console. Both serve the same API; the console summary is served on the socket only.
 *
 * Start-up is a list of named phases so a failure says which one broke.
 *
 * @example
 * ```ts
 * const srv = await startServer({ ctx: nodeContext(), port: 8443, socketPath: "/run/quantix/qx-node.sock", logger });
 * await srv.close();
 * ```
 */
import { promises as fs } from "node:fs";
import { connect } from "node:net";
import { dirname } from "node:path";
import { configPaths, QxError } from "@quantix/core";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import { certificateRoutes } from "./api/certificate.ts";
import { consoleRoutes } from "./api/console.ts";
import { healthRoutes } from "./api/health.ts";
import type { NodeContext } from "./context.ts";
import { hostIpv4Addresses } from "./services/addresses.ts";
import { ensureCertificate, type NodeCertificate } from "./services/certificate.ts";
import { loadConfigInForce } from "./services/config.ts";
import { createHealthService, type HealthOptions } from "./services/health.ts";

export { DEFAULT_SOCKET } from "./client.ts";

export interface ServeOptions {
  readonly ctx: NodeContext;
  /** HTTPS port; 0 picks a free one (tests). */
  readonly port: number;
  /** Address the HTTPS listener binds (default 0.0.0.0). */
  readonly host?: string;
  readonly socketPath: string;
  readonly logger: FastifyBaseLogger;
  readonly health?: HealthOptions;
}

export interface RunningServer {
  /** The HTTPS port actually bound. */
  readonly port: number;
  readonly socketPath: string;
  readonly certificate: NodeCertificate;
  /** Stops both listeners, letting requests in flight finish. */
  close(): Promise<void>;
}

/** A start-up phase failed; `phase` names it. */
export class ServeError extends QxError {
  override name = "ServeError";
  constructor(
    readonly phase: string,
    cause: unknown,
  ) {
    super("SERVE_FAILED", `qx-node: ${phase} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

async function phase<T>(name: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw new ServeError(name, e);
  }
}

/** Request logging without the per-request info lines (the console polls every few seconds); errors are still logged. */
class QuietLogController extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(...args: Parameters<LogController["requestCompleted"]>): void {
    if (args[0]) super.requestCompleted(...args);
  }
}

/** True when something accepts connections on the unix socket `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.setTimeout(500);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.once("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
}

/** Listens on a unix socket that only root (the owner) can connect to. */
async function listenUnix(app: FastifyInstance, path: string): Promise<void> {
  await fs.mkdir(dirname(path), { recursive: true, mode: 0o755 });
  if (await socketInUse(path)) throw new Error(`${path} is in use: is another qx-node running?`);
  await fs.rm(path, { force: true });
  await app.ready();
  // The umask makes the socket 0600 from its creation on; chmod makes sure of it.
  const oldMask = process.umask(0o177);
  try {
    await app.listen({ path });
  } finally {
    process.umask(oldMask);
  }
  await fs.chmod(path, 0o600);
}

/** Starts the HTTPS and unix-socket listeners (see the module comment). */
export async function startServer(o: ServeOptions): Promise<RunningServer> {
  const { ctx, logger } = o;
  const config = await phase("loading the configuration", () => loadConfigInForce(ctx.root));
  const certificate = await phase("preparing the TLS certificate", () =>
    ensureCertificate({
      dir: configPaths(ctx.root).certificates,
      hostname: config.node.value?.hostname ?? ctx.hostname(),
      addresses: hostIpv4Addresses(ctx).map((a) => a.address),
    }),
  );
  logger.info(
    { fingerprint: certificate.fingerprint, generated: certificate.generated, san: certificate.subjectAltName },
    certificate.generated ? "generated a new TLS certificate" : "using the stored TLS certificate",
  );
  const health = createHealthService(ctx, o.health);

  const tls = Fastify({
    https: { key: certificate.keyPem, cert: certificate.certPem },
    loggerInstance: logger,
    logController: new QuietLogController(),
  });
  const local = Fastify({ loggerInstance: logger, logController: new QuietLogController() });
  const server = { port: o.port, certificate };
  for (const app of [tls, local] as FastifyInstance[]) {
    healthRoutes(app, health);
    certificateRoutes(app, certificate);
  }
  consoleRoutes(local, ctx, server);

  await phase(`listening on ${o.host ?? "0.0.0.0"}:${o.port} (HTTPS)`, () =>
    tls.listen({ host: o.host ?? "0.0.0.0", port: o.port }),
  );
  const address = tls.server.address();
  server.port = typeof address === "object" && address ? address.port : o.port;
  try {
    await phase(`listening on ${o.socketPath}`, () => listenUnix(local, o.socketPath));
  } catch (e) {
    await tls.close();
    throw e;
  }
  logger.info({ port: server.port, socket: o.socketPath }, "qx-node listening");

  return {
    port: server.port,
    socketPath: o.socketPath,
    certificate,
    async close() {
      await Promise.allSettled([tls.close(), local.close()]);
      await fs.rm(o.socketPath, { force: true });
    },
  };
}
