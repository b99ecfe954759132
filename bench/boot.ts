/**
 * bench/boot: boot time of the disk image against the kernel floor, in one run under
 * the same accelerator and machine (q35, OVMF, 2 vCPUs, 2 GiB).
 *  - floor: the image's own kernel with a BusyBox initramfs that powers off at once;
 *  - first boot: the disk image from QEMU start to GET /api/v1/health = 200;
 *  - second boot: a clean power-off, QEMU started again on the same disk, to health 200.
 * Prints the times, the ratios (goals: first ≤ 12, second ≤ 8, standing ≤ 2), the
 * Node.js processes the guest recorded starting during each boot (/run/quantix/
 * node-starts: uptime, Node.js start-up seconds, command), and where each boot's time
 * goes (first appearance of each milestone on the serial console, host-timestamped).
 *   npx tsx bench/boot.ts --disk output/quantix-os-V.img --squashfs output/system-V.squashfs [--runs N]
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { detectAccel, OVMF_CODE, OVMF_VARS, TCG_CPU, Vm } from "../tests/vm/lib/qemu.ts";

const { values } = parseArgs({ options: { disk: { type: "string" }, squashfs: { type: "string" }, runs: { type: "string" } } });
if (!values.disk || !values.squashfs) {
  console.error("usage: boot.ts --disk IMG --squashfs SQUASHFS [--runs N]");
  process.exit(2);
}
const runs = Number(values.runs ?? 1);
const accel = detectAccel();
const work = mkdtempSync(join(tmpdir(), "qx-bench-boot-"));

function busybox(): string {
  for (const p of [`${process.env.QX_CACHE ?? "/var/cache/quantix-os"}/initramfs-busybox/busybox`, "/bin/busybox"]) if (existsSync(p)) return p;
  throw new Error("no static busybox (apt-get install busybox-static)");
}

/** A cpio with busybox and an /init that powers off immediately. */
function floorInitrd(): string {
  const root = join(work, "floor");
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync(busybox(), join(root, "bin/busybox"));
  writeFileSync(join(root, "init"), "#!/bin/busybox sh\n/bin/busybox echo QX-FLOOR-UP\n/bin/busybox poweroff -f\n");
  chmodSync(join(root, "init"), 0o755);
  const out = join(work, "floor.cpio");
  const r = spawnSync("sh", ["-c", `cd ${root} && find . | cpio -o -H newc --quiet > ${out}`]);
  if (r.status !== 0) throw new Error(`cpio: ${r.stderr}`);
  return out;
}

function kernel(): string {
  const out = join(work, "vmlinuz");
  const r = spawnSync("unsquashfs", ["-cat", values.squashfs as string, "/boot/vmlinuz"], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`unsquashfs: ${r.stderr}`);
  writeFileSync(out, r.stdout);
  return out;
}

async function floorRun(vmlinuz: string, initrd: string): Promise<number> {
  const vars = join(work, "floor-vars.fd");
  copyFileSync(OVMF_VARS, vars);
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => {
    const p = spawn("qemu-system-x86_64", [
      "-accel", accel === "tcg" ? "tcg,thread=single" : "kvm", "-machine", "q35", "-cpu", accel === "kvm" ? "host" : TCG_CPU, "-m", "2048", "-smp", "2",
      "-nodefaults", "-display", "none", "-serial", `file:${join(work, "floor.log")}`,
      "-drive", `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, "-drive", `if=pflash,format=raw,file=${vars}`,
      "-kernel", vmlinuz, "-initrd", initrd, "-append", "console=ttyS0,115200 panic=-1", "-no-reboot",
    ]);
    p.on("exit", (c) => (c === 0 ? resolve() : reject(new Error(`floor qemu exit ${c}`))));
  });
  const ms = performance.now() - t0;
  if (!readFileSync(join(work, "floor.log"), "latin1").includes("QX-FLOOR-UP")) throw new Error("floor kernel did not reach its init");
  return ms;
}

const MILESTONES: [string, RegExp][] = [
  ["GRUB picked a slot", /Quantix-OS: booting slot/],
  ["kernel started", /Linux version/],
  ["initramfs /init", /qx-init: /],
  ["squashfs copied to RAM", /qx-init: copied slot/],
  ["switch_root", /qx-init: switching to/],
  ["OpenRC started", /OpenRC .* is starting up/],
  ["runlevel default", /INIT: Entering runlevel/],
  ["Open vSwitch", /Starting Open vSwitch/],
  ["qx-boot started", /Preparing the node/],
  ["qx-boot: firstboot", /qx-boot: firstboot: [^\n]*\(\d+ ms\)/],
  ["qx-boot: /data", /qx-boot: data: [^\n]*\(\d+ ms\)/],
  ["qx-boot: network", /qx-boot: network: [^\n]*\(\d+ ms\)/],
  ["libvirtd", /Starting libvirtd|Starting libvirt management daemon/],
  ["qx-node started", /Starting qx-node/],
  ["qx-node listening", /Waiting for qx-node to listen[^\n]*\n[^\n]*ok/],
  ["DCUI started", /Starting qx-console/],
];

interface Boot {
  ms: number;
  marks: [string, number][];
  lines: [number, string][];
  /** Node.js starts the guest recorded (/run/quantix/node-starts) up to health 200. */
  nodeStarts: string[];
}

/** Watches one boot of `vm` (launched at `t0`) until health answers 200. */
async function measureBoot(vm: Vm, t0: number): Promise<Boot> {
  const marks: [string, number][] = [];
  const seen = new Set<string>();
  const lines: [number, string][] = [];
  let partial = 0;
  const poll = setInterval(() => {
    const text = vm.serial();
    // Complete lines only; ANSI sequences and carriage returns stripped.
    const all = text.split("\n");
    for (let i = partial; i < all.length - 1; i++) {
      const l = (all[i] as string).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "").trim();
      if (l) lines.push([performance.now() - t0, l.slice(0, 100)]);
    }
    partial = Math.max(partial, all.length - 1);
    const plain = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
    for (const [name, re] of MILESTONES) {
      if (!seen.has(name) && re.test(plain)) {
        seen.add(name);
        marks.push([name, performance.now() - t0]);
      }
    }
  }, 100);
  try {
    // Health polled every 0.5 s; each change of answer is a milestone, with the
    // components that still fail (what qx-node waits for once it listens).
    let answer = "";
    const deadline = performance.now() + 600_000;
    for (;;) {
      let now = "no answer";
      try {
        const r = await vm.api.get("/api/v1/health");
        if (r.status === 200) break;
        // Without a credential the API names the failing components and nothing more.
        now = `health ${r.status}: ${(r.json<{ failing?: string[] }>().failing ?? []).join(", ")} failing`;
      } catch {
        // not listening yet
      }
      if (now !== answer && now !== "no answer") marks.push([now, performance.now() - t0]);
      answer = now;
      if (performance.now() > deadline) throw new Error(`health never answered 200; last: ${answer}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const ms = performance.now() - t0;
    marks.push(["health 200", ms]);
    await vm.agent.waitReady(120_000);
    const starts = await vm.agent.sh("cat /run/quantix/node-starts");
    return { ms, marks, lines, nodeStarts: starts.stdout.trim().split("\n").filter(Boolean) };
  } finally {
    clearInterval(poll);
  }
}

function printBoot(name: string, b: Boot, floor: number): void {
  console.log(`${name}: ${(b.ms / 1000).toFixed(1)} s, ${(b.ms / floor).toFixed(2)} x the floor`);
  console.log(`  where the time goes (seconds since QEMU start):`);
  let prev = 0;
  for (const [m, t] of [...b.marks].sort((x, y) => x[1] - y[1])) {
    console.log(`    ${(t / 1000).toFixed(1).padStart(6)}  +${((t - prev) / 1000).toFixed(1).padStart(5)}  ${m}`);
    prev = t;
  }
  // uptime pid node-startup-seconds command
  console.log(`  Node.js processes started during the boot: ${b.nodeStarts.length} (guest uptime, s before the entry ran, command):`);
  for (const l of b.nodeStarts) {
    const [up, , boot, ...cmd] = l.split(" ");
    console.log(`    ${Number(up).toFixed(1).padStart(6)}  ${Number(boot).toFixed(2).padStart(5)}  ${cmd.join(" ").slice(0, 80)}`);
  }
  const gaps = b.lines.map(([t, l], i) => ({ t, l, gap: t - (i > 0 ? (b.lines[i - 1] as [number, string])[0] : 0) }));
  console.log("  longest gaps on the serial console (seconds, gap, the line that ended it):");
  for (const g of [...gaps].sort((x, y) => y.gap - x.gap).slice(0, 12).sort((x, y) => x.t - y.t))
    console.log(`    ${(g.t / 1000).toFixed(1).padStart(6)}  +${(g.gap / 1000).toFixed(1).padStart(5)}  ${g.l}`);
}

const vmlinuz = kernel();
const initrd = floorInitrd();
const floors: number[] = [];
const firsts: Boot[] = [];
const seconds: Boot[] = [];
for (let i = 0; i < runs; i++) {
  floors.push(await floorRun(vmlinuz, initrd));
  const t0 = performance.now();
  const vm = await Vm.start({ name: "bench-boot", disk: values.disk as string });
  try {
    firsts.push(await measureBoot(vm, t0));
    await vm.restart();
    seconds.push(await measureBoot(vm, performance.now()));
  } finally {
    await vm.stop();
    vm.cleanup();
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
const floor = med(floors);
const first = med(firsts.map((b) => b.ms));
const second = med(seconds.map((b) => b.ms));
console.log(`accelerator: ${accel}, runs: ${runs}`);
console.log(`kernel floor (QEMU start -> BusyBox init powers off): ${(floor / 1000).toFixed(1)} s`);
console.log(`first boot  (QEMU start -> /api/v1/health = 200):     ${(first / 1000).toFixed(1)} s   ratio ${(first / floor).toFixed(2)} (goal <= 12)`);
console.log(`second boot (QEMU start -> /api/v1/health = 200):     ${(second / 1000).toFixed(1)} s   ratio ${(second / floor).toFixed(2)} (goal <= 8; standing goal <= 2)`);
console.log(`Node.js processes started: first boot ${(firsts.at(-1) as Boot).nodeStarts.length}, second boot ${(seconds.at(-1) as Boot).nodeStarts.length} (goal <= 3)`);
printBoot("first boot (last run)", firsts.at(-1) as Boot, floor);
printBoot("second boot (last run)", seconds.at(-1) as Boot, floor);
if (process.env.QX_BENCH_CHART) writeFileSync(process.env.QX_BENCH_CHART, (seconds.at(-1) as Boot).lines.map(([t, l]) => `${(t / 1000).toFixed(2)} ${l}`).join("\n") + "\n");
rmSync(work, { recursive: true, force: true });
