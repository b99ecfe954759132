/**
 * bench/api: the node API's latency and throughput beside a bare fastify hello-world
 * over TLS, in one run, on loopback only.
 *  - qx-node: the shipped bundle (scripts/bundle.mjs) serving a temporary root;
 *    GET /api/v1/node with an API token (auth + the cached node document);
 *  - bare:    fastify + TLS (same certificate, same Node) answering GET / with {"hello":"world"}.
 * For each: p50/p99 at a fixed 500 req/s for 10 s (latency counted from the scheduled
 * send time, so a stall is not hidden), then the most requests per second that 32
 * keep-alive connections get in 5 s. Bounded: about 45 s in all.
 *   npx tsx bench/api.ts [--rate 500] [--seconds 10] [--connections 32]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:https";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { run } from "@quantix/core";
import Fastify from "fastify";
import { makeRoot, removeRoot } from "../packages/node/src/test-support.ts";

const { values } = parseArgs({
  options: { rate: { type: "string" }, seconds: { type: "string" }, connections: { type: "string" }, bare: { type: "string" }, cert: { type: "string" } },
});

// Child mode: the bare server.
if (values.bare) {
  const dir = values.cert!;
  const app = Fastify({ https: { key: readFileSync(join(dir, "node.key")), cert: readFileSync(join(dir, "node.crt")) } });
  app.get("/", async () => ({ hello: "world" }));
  await app.listen({ host: "127.0.0.1", port: Number(values.bare) });
  process.stdout.write("ready\n");
  await new Promise(() => {});
}

const RATE = Number(values.rate ?? 500);
const SECONDS = Number(values.seconds ?? 10);
const CONNECTIONS = Number(values.connections ?? 32);
const MAX_SECONDS = 30;
if (!(RATE > 0 && RATE <= 5000 && SECONDS > 0 && SECONDS <= MAX_SECONDS && CONNECTIONS > 0 && CONNECTIONS <= 256)) {
  console.error(`bounds: rate 1..5000, seconds 1..${MAX_SECONDS}, connections 1..256`);
  process.exit(2);
}

interface Target {
  readonly name: string;
  readonly port: number;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly ca: string;
}

function get(t: Target, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port: t.port, path: t.path, headers: t.headers, agent, ca: t.ca, servername: "localhost" }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

/** Open loop: RATE requests per second for SECONDS; latency from the scheduled time. */
async function fixedRate(t: Target): Promise<{ p50: number; p99: number; max: number; errors: number; n: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const total = RATE * SECONDS;
  const lat: number[] = [];
  let errors = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    // Sent late (the loop fell behind): count from when it was due; sent early: from when it was sent.
    const from = Math.min(sent, due);
    pending.push(
      get(t, agent).then(
        (s) => {
          if (s !== 200) errors++;
          lat.push(performance.now() - (sent > due ? due : from));
        },
        () => {
          errors++;
        },
      ),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  lat.sort((a, b) => a - b);
  return { p50: pct(lat, 50), p99: pct(lat, 99), max: lat.at(-1) ?? Number.NaN, errors, n: lat.length };
}

/** Closed loop: CONNECTIONS workers back to back for 5 s. */
async function maxThroughput(t: Target, seconds = 5): Promise<{ rps: number; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const end = performance.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        try {
          if ((await get(t, agent)) === 200) done++;
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  agent.destroy();
  return { rps: done / seconds, errors };
}

function waitForLine(child: ChildProcess, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms`)), ms);
    let text = "";
    child.stdout?.on("data", (d: Buffer) => {
      text += d.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${text.slice(-500)}`)));
  });
}

const work = mkdtempSync(join(tmpdir(), "qx-bench-api-"));
const root = await makeRoot({ "quantix/firstboot.done": "" });
const children: ChildProcess[] = [];
try {
  await run(process.execPath, ["scripts/bundle.mjs", work], { timeoutMs: 120_000 });
  const qxPort = 20_000 + Math.floor(Math.random() * 20_000);
  const qx = spawn(join(work, "qx-node"), ["serve", "--root", root, "--port", String(qxPort)], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(qx);
  await waitForLine(qx, /qx-node listening/, 20_000);
  const certDir = join(root, "quantix/certificates");
  const ca = readFileSync(join(certDir, "node.crt"), "utf8");
  const password = readFileSync(join(root, "run/quantix/initial-admin-password"), "utf8").trim();
  const login = await fetchJson(qxPort, ca, "/api/v1/auth/login", { username: "admin", password });
  const admin = String(login["token"]);
  const created = await fetchJson(qxPort, ca, "/api/v1/auth/tokens", { name: "bench", scope: "read" }, admin);
  const token = String(created["token"]);

  const barePort = qxPort + 1;
  const bare = spawn(process.execPath, ["--import", "tsx", "bench/api.ts", "--bare", String(barePort), "--cert", certDir], { stdio: ["ignore", "pipe", "inherit"] });
  children.push(bare);
  await waitForLine(bare, /ready/, 20_000);

  const targets: Target[] = [
    { name: "qx-node GET /api/v1/node", port: qxPort, path: "/api/v1/node", headers: { authorization: `Bearer ${token}` }, ca },
    { name: "bare fastify GET /", port: barePort, path: "/", headers: {}, ca },
  ];
  const results: Record<string, { p50: number; p99: number; max: number; errors: number; rps: number }> = {};
  for (const t of targets) {
    await maxThroughput(t, 3); // warm-up (JIT, TLS session setup)
    const lat = await fixedRate(t);
    const thr = await maxThroughput(t);
    results[t.name] = { p50: lat.p50, p99: lat.p99, max: lat.max, errors: lat.errors + thr.errors, rps: thr.rps };
  }
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${qx.pid}/status`, "utf8"))?.[1]);
  console.log(`bench/api (loopback, TLS, ${RATE} req/s for ${SECONDS} s, then ${CONNECTIONS} connections for 5 s)`);
  // Latency on a shared machine says as much about the other jobs as about qx-node.
  console.log(`  load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(" ")} (1/5/15 min) on ${availableParallelism()} CPUs`);
  for (const [name, r] of Object.entries(results)) {
    console.log(`  ${name.padEnd(28)} p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  max ${r.max.toFixed(1)} ms  throughput ${r.rps.toFixed(0)} req/s  errors ${r.errors}`);
  }
  const q = Object.values(results)[0]!;
  const b = Object.values(results)[1]!;
  console.log(`  p99 goal < 10 ms: ${q.p99 < 10 ? "met" : "NOT met"};  throughput ratio ${(q.rps / b.rps).toFixed(2)} (goal >= 0.5: ${q.rps / b.rps >= 0.5 ? "met" : "NOT met"})`);
  console.log(`  qx-node RSS after the run: ${(rssKb / 1024).toFixed(1)} MiB`);
} finally {
  for (const c of children) c.kill("SIGTERM");
  await removeRoot(root);
  rmSync(work, { recursive: true, force: true });
}

async function fetchJson(port: number, ca: string, path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const headers: Record<string, string> = { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) };
    if (token) headers["authorization"] = `Bearer ${token}`;
    const req = request({ host: "127.0.0.1", port, path, method: "POST", headers, ca, servername: "localhost", agent: false }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => (res.statusCode && res.statusCode < 300 ? resolve(JSON.parse(text)) : reject(new Error(`${path}: ${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(payload);
  });
}
