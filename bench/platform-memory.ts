/**
 * bench/platform-memory: the memory of every platform process on a booted node, summed
 * in the guest (issue 17's goal: <= 200 MB, VMs excluded).
 *
 * Boots the disk image (q35, OVMF, 2 vCPUs, 2 GiB, as the VM tier), waits for
 * GET /api/v1/health = 200, lets the node idle SETTLE seconds, then reads /proc in the
 * guest through the guest agent: every process that is not a kernel thread (those have
 * no command line) and not a VM (`qemu-system-*`, the guests libvirt runs) — qx-node,
 * qx-console, libvirtd, virtlogd, Open vSwitch, udevd, the DHCP client, the guest agent
 * this bench talks through, and whatever else runs. For each: RSS and PSS (from
 * /proc/PID/smaps_rollup; PSS splits shared pages between the processes that map them,
 * so the PSS column adds up to what the processes really occupy, while the RSS column
 * counts a shared library once per process). The goal is judged on both sums.
 *   npx tsx bench/platform-memory.ts --disk output/quantix-os-V.img [--settle 60]
 */
import { parseArgs } from "node:util";
import { Vm } from "../tests/vm/lib/qemu.ts";

const { values } = parseArgs({ options: { disk: { type: "string" }, settle: { type: "string" } } });
if (!values.disk) {
  console.error("usage: platform-memory.ts --disk IMG [--settle SECONDS]");
  process.exit(2);
}
const SETTLE = Number(values.settle ?? 60);
const GOAL_MB = 200;
const MB = 1_000_000;

/** One line per process: pid, RSS kB, PSS kB, command line (NUL → space). */
const LIST = `for d in /proc/[0-9]*; do
  p=\${d#/proc/}; [ -s $d/cmdline ] || continue
  cmd=$(tr '\\0' ' ' < $d/cmdline 2>/dev/null | cut -c1-100)
  rss=$(awk '/^Rss:/{print $2}' $d/smaps_rollup 2>/dev/null)
  pss=$(awk '/^Pss:/{print $2}' $d/smaps_rollup 2>/dev/null)
  [ -n "$rss" ] && echo "$p	$rss	$pss	$cmd"
done; true`;

interface Proc {
  pid: number;
  rss: number;
  pss: number;
  cmd: string;
}

/** A short name for a process: the bundle for Node.js, else the program. */
function label(cmd: string): string {
  const words = cmd.trim().split(/\s+/);
  const prog = (words[0] ?? "?").split("/").pop() ?? "?";
  if (prog === "node") return (words.find((w) => w.startsWith("/usr/local/bin/")) ?? "node").split("/").pop() ?? "node";
  return prog;
}

const vm = await Vm.start({ name: "platform-memory", disk: values.disk, watchdog: true });
try {
  const t0 = performance.now();
  await vm.waitHealth(900_000);
  const bootS = (performance.now() - t0) / 1000;
  await vm.agent.waitReady(120_000);
  await new Promise((r) => setTimeout(r, SETTLE * 1000));
  const out = await vm.agent.check(LIST, 120_000);
  const procs: Proc[] = out
    .split("\n")
    .filter(Boolean)
    .map((l) => {
      const [pid, rss, pss, ...cmd] = l.split("\t");
      return { pid: Number(pid), rss: Number(rss) * 1024, pss: Number(pss) * 1024, cmd: cmd.join(" ") };
    });
  // The listing's own shell, awk, tr and cut are not platform processes.
  const mine = new Set(["sh", "awk", "tr", "cut"]);
  const platform = procs.filter((p) => !/qemu-system-/.test(p.cmd) && !mine.has(label(p.cmd)));
  const vms = procs.filter((p) => /qemu-system-/.test(p.cmd));
  platform.sort((a, b) => b.pss - a.pss);
  const rss = platform.reduce((s, p) => s + p.rss, 0);
  const pss = platform.reduce((s, p) => s + p.pss, 0);
  console.log(`bench/platform-memory (${vm.accel}, healthy after ${bootS.toFixed(1)} s, then ${SETTLE} s idle; ${vms.length} VM process(es) excluded)`);
  console.log(`  ${"process".padEnd(22)} ${"pid".padStart(6)} ${"RSS MB".padStart(8)} ${"PSS MB".padStart(8)}`);
  for (const p of platform) console.log(`  ${label(p.cmd).padEnd(22)} ${String(p.pid).padStart(6)} ${(p.rss / MB).toFixed(1).padStart(8)} ${(p.pss / MB).toFixed(1).padStart(8)}`);
  console.log(`  ${"sum".padEnd(22)} ${String(platform.length).padStart(6)} ${(rss / MB).toFixed(1).padStart(8)} ${(pss / MB).toFixed(1).padStart(8)}`);
  console.log(`  goal <= ${GOAL_MB} MB: PSS sum ${pss / MB <= GOAL_MB ? "met" : "NOT met"}, RSS sum ${rss / MB <= GOAL_MB ? "met" : "NOT met"}`);
} finally {
  await vm.stop();
  vm.cleanup();
}
