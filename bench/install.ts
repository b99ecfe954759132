/**
 * bench/install: how long the ISO installer takes, from "start" (the unattended
 * install begins) to "reboot" (it hands over to the after-install action), under the
 * accelerator the VM tier uses (TCG on the CI machines), and how much of that is raw
 * copying (slot A: write + read-back verify of the system image) versus everything
 * else (partitioning, GRUB, FAT ESP, ext4 config, XFS data).
 *   npx tsx bench/install.ts --iso output/quantix-os-V.iso [--firmware uefi|bios] [--disk-gib 8]
 * The installer prints its own report (phase durations measured in the guest) on the
 * serial console; the wall time seen from the host is printed beside it.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Vm } from "../tests/vm/lib/qemu.ts";

const { values } = parseArgs({ options: { iso: { type: "string" }, firmware: { type: "string" }, "disk-gib": { type: "string" } } });
if (!values.iso) {
  console.error("usage: install.ts --iso ISO [--firmware uefi|bios] [--disk-gib N]");
  process.exit(2);
}
const firmware = values.firmware === "bios" ? "bios" : "uefi";
const diskGiB = Number(values["disk-gib"] ?? 8);
const work = mkdtempSync(join(tmpdir(), "qx-bench-install-"));

interface Report {
  version: string;
  totalMs: number;
  phases: { name: string; ms: number; detail?: string }[];
}

try {
  mkdirSync(join(work, "answers"));
  writeFileSync(join(work, "answers/answers.yaml"), "disk: /dev/vdb\nerase: true\nafter: poweroff\n");
  const answers = join(work, "answers.iso");
  const x = spawnSync("xorriso", ["-as", "mkisofs", "-quiet", "-V", "QX_ANSWERS", "-o", answers, join(work, "answers")], { encoding: "utf8" });
  if (x.status !== 0) throw new Error(`xorriso: ${x.stderr}`);
  const vm = await Vm.start({ name: "bench-install", iso: values.iso, disk: answers, blankDiskBytes: diskGiB * 2 ** 30, firmware });
  let ok = false;
  try {
    const t0 = Date.now();
    await vm.waitFor(/qx-install: unattended install of Quantix-OS/, 600_000);
    const start = Date.now();
    const m = await vm.waitFor(/qx-install: report (\{.*\})/, 1_200_000);
    await vm.waitFor(/qx-install: done; poweroff now/, 60_000);
    const wall = Date.now() - start;
    const r = JSON.parse(m[1]!) as Report;
    const slot = r.phases.find((p) => p.name === "slot-a");
    const [, write, verify] = /write ([\d.]+)s, verify ([\d.]+)s/.exec(slot?.detail ?? "") ?? [];
    const copy = slot?.ms ?? 0;
    console.log(`install bench: Quantix-OS ${r.version}, ${vm.accel.toUpperCase()}, ${firmware}, ${diskGiB} GiB virtio disk`);
    console.log(`  ISO boot until the installer starts  ${((start - t0) / 1000).toFixed(1)} s`);
    console.log(`  install, start -> reboot             ${(r.totalMs / 1000).toFixed(1)} s (host wall clock ${(wall / 1000).toFixed(1)} s)`);
    console.log(`  raw copy (slot A)                    ${(copy / 1000).toFixed(1)} s = ${((100 * copy) / r.totalMs).toFixed(0)}%  (write ${write ?? "?"} s, verify ${verify ?? "?"} s; ${slot?.detail?.split(",")[0] ?? ""})`);
    console.log(`  everything else                      ${((r.totalMs - copy) / 1000).toFixed(1)} s = ${((100 * (r.totalMs - copy)) / r.totalMs).toFixed(0)}%`);
    for (const p of r.phases) console.log(`    ${p.name.padEnd(10)} ${(p.ms / 1000).toFixed(1).padStart(6)} s  ${p.detail ?? ""}`);
    ok = true;
  } finally {
    // Bounded: QMP never answers once the guest has powered QEMU off.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([vm.stop().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, 15_000)))]);
    clearTimeout(timer);
    if (ok) vm.cleanup();
    else console.error(`VM logs kept: ${vm.serialLog}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
