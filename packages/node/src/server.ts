/**
 * @module server
 * The qx-node daemon's listeners: HTTPS on the network (TLS only, no plain-HTTP
 * port) and plain HTTP on a root-only unix socket for local tools such as the
 * console. Both serve the same API; the console summary is served on the socket only.
 *
 * Start-up is a list of named phases so a failure says which one broke.
 *
 * Every `/api/v1` route but health and login needs a credential on HTTPS (see
 * services/auth); the unix socket is root-only and its caller is trusted as admin.
 * Request bodies are JSON up to {@link BODY_LIMIT} bytes, except the streamed update
 * image. Errors answer `{ error, message, field? }`; a 5xx never carries internals.
 *
 * @example
 * ```ts
 * const srv = await startServer({ ctx: nodeContext(), port: 8443, socketPath: "/run/quantix/qx-node.sock", logger });
 * await srv.close();
 * ```
 */
import { promises as fs } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { configPaths, QxError, TLS_SERVER_POLICY } from "@quantix/core";
import { ConfigError, ExecError } from "@quantix/core";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from "fastify";
import { activityRoutes } from "./api/activity.ts";
import { authRoutes } from "./api/auth.ts";
import { certificateRoutes } from "./api/certificate.ts";
import { consoleRoutes } from "./api/console.ts";
import { healthRoutes } from "./api/health.ts";
import { HttpError, RateLimitError, ValidationError } from "./api/http-errors.ts";
import { logsRoutes } from "./api/logs.ts";
import { metricsRoutes } from "./api/metrics.ts";
import { networkRoutes } from "./api/network.ts";
import { nodeRoutes } from "./api/node.ts";
import { openApiRoutes } from "./api/openapi.ts";
import { powerRoutes } from "./api/power.ts";
import type { Api, Principal } from "./api/route.ts";
import { servicesRoutes } from "./api/services.ts";
import { updateRoutes } from "./api/update.ts";
import { webRoutes } from "./api/web.ts";
import { networksRoutes } from "./api/networks.ts";
import { storageRoutes } from "./api/storage.ts";
import { vmRoutes } from "./api/vms.ts";
import { defaultVirt, type VirtServices } from "./virt/virt-services.ts";
import type { NodeContext } from "./context.ts";
import { lifecycleEvent, networkTrialActivity, recordRollback } from "./services/activity.ts";
import { hostIpv4Addresses } from "./services/addresses.ts";
import { EventLog } from "./services/events.ts";
import { TaskRegistry } from "./services/tasks.ts";
import { type AuthService, createAuthService } from "./services/auth.ts";
import { ensureCertificate, type NodeCertificate } from "./services/certificate.ts";
import { loadConfigInForce } from "./services/config.ts";
import { createHealthService, type HealthOptions } from "./services/health.ts";
import { ensureAdminPassword } from "./services/initial-password.ts";
import { nodeLogs } from "./services/logs.ts";
import { createMetrics, dataMounted, type Metrics } from "./services/metrics.ts";
import { NodeInfoCache, readNodeInfo } from "./services/node-info.ts";
import { type NetworkApplier, NetworkTrial, qxNetconf } from "./services/network-try.ts";
import { type PowerControl, power } from "./services/power.ts";
import type { LimiterSettings } from "./services/rate-limit.ts";
import { systemServices } from "./services/system-services.ts";
import { qxUpdateBackend } from "./services/update-backend.ts";
import type { UpdateBackend } from "./services/update-port.ts";
import { readVersion } from "./services/version.ts";
import { loadWebAssets, type WebAssets } from "./web-assets.ts";

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
  /** The updater (default: qx-update's library; tests pass `updateUnavailable`). */
  readonly update?: UpdateBackend;
  /** Applies network.yaml (default: qx-netconf's library). */
  readonly network?: NetworkApplier;
  /** Try-mode deadline in ms (default 120 s). */
  readonly networkTryMs?: number;
  readonly power?: PowerControl;
  /** The web UI's files; null serves none (default: built from packages/web, on the first request for one). */
  readonly web?: WebAssets | null;
  /** scrypt cost of new password hashes (tests lower it). */
  readonly passwordCost?: { logN: number; r: number; p: number };
  readonly loginLimit?: LimiterSettings;
  /** Shows the initial admin password on the console (default: ROOT/dev/console). */
  readonly announce?: (text: string) => Promise<void>;
  /** Poll interval of log follows (tests shorten it). */
  readonly logPollMs?: number;
  /** VMs, storage pool and OVS bridges, or a factory given the root (default: libvirt via virsh, /data/volumes, ovs-vsctl). */
  readonly virt?: VirtServices | ((root: string) => VirtServices);
  /** The metrics history (default: sampled from ROOT/proc every 10 s, the day's history kept in ROOT/data/.cache). */
  readonly metrics?: Metrics;
}

/** The day's metrics history, kept on /data across restarts (services/metrics). */
export const METRICS_FILE = "data/.cache/qx-metrics.json";

/** The event log, on the config partition (services/events), beside node.yaml. */
export const EVENTS_FILE = "events.jsonl";

/** Largest JSON request body, in bytes (the update image is streamed and exempt). */
export const BODY_LIMIT = 64 * 1024;

export interface RunningServer {
  /** The HTTPS port actually bound. */
  readonly port: number;
  readonly socketPath: string;
  readonly certificate: NodeCertificate;
  readonly auth: AuthService;
  readonly trial: NetworkTrial;
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

/** `{ error, message, field? }` for every failure; 5xx answers name no internals. */
function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof HttpError) {
      if (err instanceof RateLimitError) reply.header("retry-after", String(err.retryAfterSeconds));
      const field = err instanceof ValidationError ? err.field : undefined;
      const issues = err instanceof ValidationError && err.issues.length > 1 ? err.issues.slice(0, 20) : undefined;
      return reply.code(err.status).send({ error: err.code, message: err.message, field, issues });
    }
    if (err instanceof ConfigError) return reply.code(409).send({ error: err.code, message: err.message, field: err.fieldPath ?? undefined });
    if (err instanceof ExecError) {
      req.log.warn({ err }, "system command failed");
      return reply.code(502).send({ error: err.code, message: err.message });
    }
    const status = (err as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: (err as FastifyError).code ?? "BAD_REQUEST", message: err.message.slice(0, 300) });
    }
    req.log.error({ err }, "request failed");
    return reply.code(500).send({ error: "INTERNAL", message: "internal error (details in /var/log/quantix/qx-node.log)" });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: "NOT_FOUND", message: `no route ${req.method} ${req.url.split("?")[0]?.slice(0, 200)}` }),
  );
}

/** Headers every HTTPS answer carries; API answers are never cached. */
function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook("onSend", async (req, reply, payload) => {
    reply.header("strict-transport-security", "max-age=31536000");
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    if (req.url.startsWith("/api/")) reply.header("cache-control", "no-store");
    return payload;
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
  const events = new EventLog({ file: join(configPaths(ctx.root).dir, EVENTS_FILE), now: ctx.now, log: (m) => logger.warn(m) });
  await phase("reading the event log", () => events.load());
  const tasks = new TaskRegistry({ now: ctx.now, events });
  const activity = { tasks, events };
  const auth = await phase("loading the admin account and API tokens", async () => {
    const a = await createAuthService({
      dir: join(configPaths(ctx.root).dir, "auth"),
      now: ctx.now,
      ...(o.passwordCost ? { cost: o.passwordCost } : {}),
      ...(o.loginLimit ? { limit: o.loginLimit } : {}),
    });
    const initial = await ensureAdminPassword(a.store, { root: ctx.root, ...(o.announce ? { announce: o.announce } : {}) });
    if (initial.created) logger.warn({ file: initial.file }, "no admin password was set: made a random one (shown on the console and in the file)");
    return a;
  });
  // The UI's files are loaded on the first request for one (api/web).
  const web = o.web !== undefined ? o.web : loadWebAssets;
  const applier = o.network ?? qxNetconf(ctx.root);
  const trial = new NetworkTrial({
    root: ctx.root,
    applier,
    log: (msg, fields) => logger.warn(fields ?? {}, msg),
    onChange: networkTrialActivity(tasks, events),
    ...(o.networkTryMs !== undefined ? { timeoutMs: o.networkTryMs } : {}),
    now: ctx.now,
  });
  await phase("resuming a network change on trial", () => trial.resume());
  const server = { port: o.port, certificate };
  const nodeInfo = new NodeInfoCache(() => readNodeInfo(ctx, certificate), ctx.now);
  const services = systemServices(ctx);
  const logs = nodeLogs(ctx.root, o.logPollMs !== undefined ? { pollMs: o.logPollMs } : {});
  const control = o.power ?? power(ctx, { log: (m) => logger.error(m) });
  const update = o.update ?? qxUpdateBackend({ root: ctx.root, log: (m) => logger.info(m) });
  const virt = typeof o.virt === "function" ? o.virt(ctx.root) : (o.virt ?? defaultVirt(ctx.root));
  const metrics =
    o.metrics ??
    createMetrics({
      root: ctx.root,
      now: ctx.now,
      persistFile: join(ctx.root, METRICS_FILE),
      persistIf: () => dataMounted(ctx.root),
      vmStats: () => virt.vms.stats(),
      log: (m) => logger.warn(m),
    });
  let version = "unknown";
  await readVersion(ctx.root).then((v) => {
    version = v ?? version;
  }, () => undefined);

  const fastifyOptions = { loggerInstance: logger, logController: new QuietLogController(), bodyLimit: BODY_LIMIT };
  const tls = Fastify({ ...fastifyOptions, https: { key: certificate.keyPem, cert: certificate.certPem, ...TLS_SERVER_POLICY } });
  const local = Fastify(fastifyOptions);
  const LOCAL: Principal = { kind: "local", scope: "admin", id: "root" };
  const apis: { api: Api; local: boolean }[] = [
    { api: { app: tls as FastifyInstance, authenticate: (req) => auth.principalFor(req.headers.authorization), routes: [] }, local: false },
    { api: { app: local as FastifyInstance, authenticate: () => LOCAL, routes: [] }, local: true },
  ];
  for (const { api, local: isLocal } of apis) {
    const app = api.app;
    installErrorHandling(app);
    healthRoutes(api, health);
    certificateRoutes(api, certificate);
    authRoutes(api, auth, { root: ctx.root, local: isLocal, events });
    nodeRoutes(api, ctx, nodeInfo);
    networkRoutes(api, { root: ctx.root, trial, applier, local: isLocal });
    servicesRoutes(api, services);
    logsRoutes(api, logs);
    metricsRoutes(api, metrics, virt);
    updateRoutes(api, update, activity);
    powerRoutes(api, ctx, control);
    vmRoutes(api, virt, activity);
    storageRoutes(api, virt, activity);
    networksRoutes(api, virt);
    activityRoutes(api, tasks, events);
    openApiRoutes(api, () => version);
  }
  installSecurityHeaders(tls as FastifyInstance);
  if (web) webRoutes(tls as FastifyInstance, web);
  consoleRoutes(local as FastifyInstance, ctx, server);

  await phase(`listening on ${o.host ?? "0.0.0.0"}:${o.port} (HTTPS)`, () =>
    tls.listen({ host: o.host ?? "0.0.0.0", port: o.port }),
  );
  const address = tls.server.address();
  server.port = typeof address === "object" && address ? address.port : o.port;
  try {
    await phase(`listening on ${o.socketPath}`, () => listenUnix(local as FastifyInstance, o.socketPath));
  } catch (e) {
    trial.close();
    await tls.close();
    throw e;
  }
  logger.info({ port: server.port, socket: o.socketPath }, "qx-node listening");
  // Sampling starts once the node serves: the history is not on the start-up path.
  await metrics.start();
  // VM state changes from libvirt, whoever made them; a rollback made while qx-node was down.
  const unwatch = virt.vms.watch((e) => {
    const ev = lifecycleEvent(e);
    if (ev) void events.record(ev).catch(() => undefined);
  });
  void update
    .status()
    .then((s) => recordRollback(s, events))
    .catch(() => undefined);

  return {
    port: server.port,
    socketPath: o.socketPath,
    certificate,
    auth,
    trial,
    async close() {
      unwatch();
      trial.close();
      await Promise.allSettled([tls.close(), local.close(), metrics.stop()]);
      await events.close();
      await fs.rm(o.socketPath, { force: true });
    },
  };
}
