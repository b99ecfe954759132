/**
 * bench/boot: boot time of the disk image against the kernel floor, in one run under
 * the same accelerator and machine (q35, OVMF, 2 vCPUs, 2 GiB).
 *  - floor: the image's own kernel with a BusyBox initramfs that powers off at once;
 *  - full:  the disk image from QEMU start to GET /api/v1/health = 200.
 * Prints both times, the ratio (goal ≤ 2.0) and where the full boot's time goes
 * (first appearance of each milestone on the serial console, host-timestamped).
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
  ["udev settled", /Waiting for \/dev to be fully populated\.\.\..*done/s],
  ["runlevel default", /INIT: Entering runlevel/],
  ["/data mounted", /qx-datamount: mounted/],
  ["libvirtd", /Starting libvirt management daemon/],
  ["ovs-vswitchd", /Starting ovs-vswitchd/],
];

/** Serial lines with the host time each was first seen (the boot chart). */
let lastLines: [number, string][] = [];

async function fullRun(): Promise<{ ms: number; marks: [string, number][] }> {
  const t0 = performance.now();
  const vm = await Vm.start({ name: "bench-boot", disk: values.disk as string });
  const marks: [string, number][] = [];
  const seen = new Set<string>();
  const lines: [number, string][] = [];
  let partial = 0;
  lastLines = lines;
  const poll = setInterval(() => {
    const text = vm.serial();
    // Complete lines only; ANSI sequences and carriage returns stripped.
    const all = text.split("\n");
    for (let i = partial; i < all.length - 1; i++) {
      const l = (all[i] as string).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "").trim();
      if (l) lines.push([performance.now() - t0, l.slice(0, 100)]);
    }
    partial = Math.max(partial, all.length - 1);
    for (const [name, re] of MILESTONES) {
      if (!seen.has(name) && re.test(text)) {
        seen.add(name);
        marks.push([name, performance.now() - t0]);
      }
    }
  }, 100);
  try {
    await vm.waitHealth(600_000);
    const ms = performance.now() - t0;
    clearInterval(poll);
    marks.push(["health 200", ms]);
    return { ms, marks };
  } finally {
    clearInterval(poll);
    await vm.stop();
    vm.cleanup();
  }
}

const vmlinuz = kernel();
const initrd = floorInitrd();
const floors: number[] = [];
const fulls: number[] = [];
let lastMarks: [string, number][] = [];
for (let i = 0; i < runs; i++) {
  floors.push(await floorRun(vmlinuz, initrd));
  const f = await fullRun();
  fulls.push(f.ms);
  lastMarks = f.marks;
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] as number;
const floor = med(floors);
const full = med(fulls);
console.log(`accelerator: ${accel}, runs: ${runs}`);
console.log(`kernel floor (QEMU start -> BusyBox init powers off): ${(floor / 1000).toFixed(1)} s`);
console.log(`full boot   (QEMU start -> /api/v1/health = 200):     ${(full / 1000).toFixed(1)} s`);
console.log(`ratio full / floor: ${(full / floor).toFixed(2)} (goal <= 2.0)`);
console.log("where the time goes (last run, seconds since QEMU start):");
let prev = 0;
for (const [name, t] of lastMarks.sort((a, b) => a[1] - b[1])) {
  console.log(`  ${(t / 1000).toFixed(1).padStart(6)}  +${((t - prev) / 1000).toFixed(1).padStart(5)}  ${name}`);
  prev = t;
}
// The boot chart: the longest silences on the serial console and the line that ended each.
const gaps = lastLines.map(([t, l], i) => ({ t, l, gap: t - (i > 0 ? (lastLines[i - 1] as [number, string])[0] : 0) }));
console.log("longest gaps on the serial console (last run: seconds, gap, the line that ended it):");
for (const g of [...gaps].sort((a, b) => b.gap - a.gap).slice(0, 15).sort((a, b) => a.t - b.t))
  console.log(`  ${(g.t / 1000).toFixed(1).padStart(6)}  +${(g.gap / 1000).toFixed(1).padStart(5)}  ${g.l}`);
if (process.env.QX_BENCH_CHART) writeFileSync(process.env.QX_BENCH_CHART, lastLines.map(([t, l]) => `${(t / 1000).toFixed(2)} ${l}`).join("\n") + "\n");
rmSync(work, { recursive: true, force: true });
