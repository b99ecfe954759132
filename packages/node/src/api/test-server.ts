/**
 * @module api/test-server
 * For the API tests: a real qx-node (HTTPS on 127.0.0.1, a port picked by the
 * kernel) on a temporary root, a fake runner for rc-service and power commands, a
 * fake network applier, and a small HTTPS client that trusts only the node's
 * certificate.
 */
import { readFile } from "node:fs/promises";
import { Agent, request } from "node:https";
import { join } from "node:path";
import type { RunOptions, RunResult } from "@quantix/core";
import { pino } from "pino";
import type { Runner } from "../context.ts";
import { type RunningServer, type ServeOptions, startServer } from "../server.ts";
import type { NetworkApplier } from "../services/network-try.ts";
import type { ShownNetwork } from "../services/network-apply.ts";
import { INITIAL_PASSWORD_FILE } from "../services/initial-password.ts";
import { updateUnavailable } from "../services/update-port.ts";
import { memoryVirt } from "../virt/virt-services.ts";
import { fakeRunner, makeRoot, removeRoot, testContext } from "../test-support.ts";

export interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The parsed JSON body, or null. */
  // biome-ignore lint/suspicious/noExplicitAny: tests inspect answers field by field
  readonly json: any;
}

export interface CallOptions {
  readonly token?: string | null;
  readonly body?: unknown;
  /** Sent as is (not JSON-encoded). */
  readonly raw?: string | Buffer;
  readonly headers?: Record<string, string>;
}

/** A fake applier: "applies" by reading network.yaml's address; records calls. */
export function fakeApplier(address = "127.0.0.1/8"): NetworkApplier & { applied: number; fail: boolean; address: string } {
  const shown = (a: string): ShownNetwork => ({ interface: "eth0", base: "eth0", vlan: null, mode: "static", address: a, gateway: null, dns: [], state: "UP" });
  const f = {
    applied: 0,
    fail: false,
    address,
    async apply() {
      f.applied++;
      if (f.fail) throw new Error("RTNETLINK answers: Network is unreachable");
      return shown(f.address);
    },
    async show() {
      return shown(f.address);
    },
  };
  return f;
}

/** rc-service answers "started" for everything; reboot/poweroff succeed; the rest as test-support's fake. */
export function apiRunner(): Runner & { calls: string[] } {
  const base = fakeRunner();
  const calls = base.calls;
  const runner = async (command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> => {
    if (["rc-service", "rc-update", "reboot", "poweroff"].includes(command)) {
      calls.push([command, ...args].join(" "));
      const stdout = args[1] === "status" ? ` * status: started\n` : "";
      return { stdout, stderr: "", exitCode: 0, signal: null };
    }
    return base(command, args, options);
  };
  return Object.assign(runner, { calls });
}

export interface TestNode {
  readonly root: string;
  readonly srv: RunningServer;
  readonly runner: Runner & { calls: string[] };
  readonly applier: ReturnType<typeof fakeApplier>;
  readonly password: string;
  /** An admin session token (logged in at start). */
  readonly admin: string;
  /** A read-scope API token. */
  readonly reader: string;
  call(method: string, path: string, o?: CallOptions): Promise<Answer>;
  close(): Promise<void>;
}

/** Starts a node; `files` are added to the root (see makeRoot). */
export async function startTestNode(files: Record<string, string> = {}, over: Partial<ServeOptions> = {}): Promise<TestNode> {
  const root = await makeRoot({ "proc/sys/kernel/hostname": "quantix-01\n", "etc/hosts": "127.0.0.1\tlocalhost\n", ...files });
  const runner = apiRunner();
  const applier = fakeApplier();
  const srv = await startServer({
    ctx: testContext(root, runner),
    host: "127.0.0.1",
    port: 0,
    socketPath: join(root, "run/quantix/qx-node.sock"),
    logger: pino({ level: "silent" }),
    health: { ttlMs: 0 },
    network: applier,
    power: { request: async (action) => ({ action, at: new Date().toISOString() }) },
    web: null,
    passwordCost: { logN: 10, r: 8, p: 1 },
    announce: async () => {},
    logPollMs: 50,
    update: updateUnavailable,
    virt: memoryVirt(root),
    ...over,
  });
  const agent = new Agent({ keepAlive: true, ca: srv.certificate.certPem, maxSockets: 16 });
  const call = (method: string, path: string, o: CallOptions = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const payload = o.raw ?? (o.body !== undefined ? JSON.stringify(o.body) : undefined);
      const headers: Record<string, string> = { ...(o.body !== undefined ? { "content-type": "application/json" } : {}), ...o.headers };
      if (o.token) headers["authorization"] = `Bearer ${o.token}`;
      // Node sends DELETE bodies without chunked encoding: the length must be given.
      if (payload !== undefined) headers["content-length"] = String(Buffer.byteLength(payload));
      const req = request({ host: "127.0.0.1", port: srv.port, path, method, headers, agent, servername: "localhost" }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });
  const password = (await readFile(join(root, INITIAL_PASSWORD_FILE), "utf8")).trim();
  const login = await call("POST", "/api/v1/auth/login", { body: { username: "admin", password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.text}`);
  const admin = login.json.token as string;
  const reader = (await srv.auth.store.createToken("reader", "read")).token;
  return {
    root,
    srv,
    runner,
    applier,
    password,
    admin,
    reader,
    call,
    async close() {
      agent.destroy();
      await srv.close();
      await removeRoot(root);
    },
  };
}
