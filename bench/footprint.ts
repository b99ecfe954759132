/**
 * bench/footprint: idle memory and CPU of the two resident Quantix-OS processes, as the
 * image runs them (the bundles of scripts/bundle.mjs, not tsx):
 *  - qx-node `serve` on a temporary root, started once before (so the certificate and
 *    the admin password exist, as on every boot after the first);
 *  - qx-console, the DCUI, on a tmux pane's terminal (`--tty`), polling that qx-node
 *    over its unix socket every 5 s as on a node (so qx-node's figure includes serving it),
 *    with the V8 flags of its OpenRC script (`node_flags=` in overlay/etc/init.d/quantix-console).
 * After SETTLE seconds idle: RSS (VmRSS) at the start and end of a WINDOW-second
 * window, its peak (sampled every second), and CPU time (utime + stime) over the window
 * as a percentage of one core. Goals (issues 6 and 7): qx-node RSS <= 80 MB and CPU
 * < 0.2 %; qx-console RSS <= 60 MB and CPU < 0.2 %. Prints figures; exits 0 either way.
 *   npx tsx bench/footprint.ts [--settle 30] [--window 60]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { run } from "@quantix/core";
import { makeRoot, removeRoot } from "../packages/node/src/test-support.ts";

const { values } = parseArgs({ options: { settle: { type: "string" }, window: { type: "string" } } });
const SETTLE = Number(values.settle ?? 30);
const WINDOW = Number(values.window ?? 60);
if (!(SETTLE >= 0 && SETTLE <= 600 && WINDOW >= 5 && WINDOW <= 600)) {
  console.error("bounds: --settle 0..600, --window 5..600 (seconds)");
  process.exit(2);
}
const MB = 1_000_000;
/** Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux x86). */
const HZ = 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The V8 flags OpenRC starts the DCUI with (`node_flags=` in its init script). */
function consoleNodeFlags(): string[] {
  const script = readFileSync("overlay/etc/init.d/quantix-console", "utf8");
  return (/^node_flags="([^"]*)"/m.exec(script)?.[1] ?? "").split(/\s+/).filter(Boolean);
}

function rssBytes(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]) * 1024;
}

function cpuTicks(pid: number): number {
  // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
}

function waitForOutput(child: ChildProcess, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${ms} ms`)), ms);
    let text = "";
    const on = (d: Buffer) => {
      text += d.toString();
      if (pattern.test(text)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", on);
    child.stderr?.on("data", on);
    child.once("exit", (code) => reject(new Error(`exited with ${code}: ${text.slice(-500)}`)));
  });
}

async function startNode(bin: string, root: string, port: number, socket: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, "serve", "--root", root, "--port", String(port), "--socket", socket], { stdio: ["ignore", "pipe", "pipe"] });
  await waitForOutput(child, /qx-node listening/, 30_000);
  return child;
}

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(5000)]);
  if (child.exitCode === null) child.kill("SIGKILL");
}

const work = mkdtempSync(join(tmpdir(), "qx-bench-footprint-"));
const root = await makeRoot({ "quantix/firstboot.done": "" });
const session = `qx-footprint-${process.pid}`;
let node: ChildProcess | undefined;
let dcui: ChildProcess | undefined;
try {
  await run(process.execPath, ["scripts/bundle.mjs", work], { timeoutMs: 180_000 });
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const socket = join(root, "run/quantix/qx-node.sock");
  // First start makes the certificate and the admin password; the measured one is the second.
  await stop(await startNode(join(work, "qx-node"), root, port, socket));
  node = await startNode(join(work, "qx-node"), root, port, socket);

  await run("tmux", ["-L", session, "new-session", "-d", "-x", "80", "-y", "25", "sleep", String(SETTLE + WINDOW + 120)], { timeoutMs: 10_000 });
  const tty = (await run("tmux", ["-L", session, "display-message", "-p", "#{pane_tty}"], { timeoutMs: 10_000 })).stdout.trim();
  const flags = consoleNodeFlags();
  dcui = spawn(process.execPath, [...flags, join(work, "qx-console"), "--tty", tty, "--socket", socket, "--interval", "5"], { stdio: ["ignore", "pipe", "pipe"] });
  await waitForOutput(dcui, /DCUI started/, 30_000);

  const procs = { "qx-node": node.pid!, "qx-console": dcui.pid! };
  await sleep(SETTLE * 1000);
  const start = Object.fromEntries(Object.entries(procs).map(([n, pid]) => [n, { rss: rssBytes(pid), ticks: cpuTicks(pid) }]));
  const peak: Record<string, number> = Object.fromEntries(Object.keys(procs).map((n) => [n, 0]));
  const t0 = performance.now();
  for (let i = 0; i < WINDOW; i++) {
    await sleep(1000);
    for (const [n, pid] of Object.entries(procs)) peak[n] = Math.max(peak[n]!, rssBytes(pid));
  }
  const seconds = (performance.now() - t0) / 1000;
  const screen = (await run("tmux", ["-L", session, "capture-pane", "-p"], { timeoutMs: 10_000 })).stdout;

  const goals: Record<string, number> = { "qx-node": 80, "qx-console": 60 };
  console.log(`bench/footprint (Node ${process.version}, bundles of scripts/bundle.mjs; idle ${SETTLE} s, then a ${WINDOW} s window)`);
  console.log(`  qx-console runs with the init script's V8 flags: ${flags.join(" ") || "(none)"}`);
  for (const [n, pid] of Object.entries(procs)) {
    const endRss = rssBytes(pid);
    const cpu = ((cpuTicks(pid) - start[n]!.ticks) / HZ / seconds) * 100;
    const rssOk = endRss / MB <= goals[n]! ? "met" : "NOT met";
    const cpuOk = cpu < 0.2 ? "met" : "NOT met";
    console.log(
      `  ${n.padEnd(11)} RSS ${(start[n]!.rss / MB).toFixed(1)} -> ${(endRss / MB).toFixed(1)} MB (peak ${(peak[n]! / MB).toFixed(1)})  ` +
        `CPU ${cpu.toFixed(3)} % of a core   goals: RSS <= ${goals[n]} MB ${rssOk}, CPU < 0.2 % ${cpuOk}`,
    );
  }
  if (!/Management URL: https:\/\//.test(screen)) console.log("  (warning: the DCUI did not show its main screen; the console figure may not be representative)");
} finally {
  await stop(dcui);
  await stop(node);
  await run("tmux", ["-L", session, "kill-server"], { timeoutMs: 10_000 }).catch(() => undefined);
  await removeRoot(root);
  rmSync(work, { recursive: true, force: true });
}
