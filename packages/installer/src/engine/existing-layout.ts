/**
 * @module engine/existing-layout
 * Upgrade (reinstall) mode keeps `/quantix` and `/data`, so it rewrites only the boot
 * files and the system slots, never the partition table. Before that it checks that
 * the disk's GPT is the core layout partition for partition (number, name, first and
 * last sector; the data partition may end anywhere at or after its planned start).
 *
 * @example
 * ```ts
 * await checkExistingLayout("/dev/vda", planDisk(size)); // throws InstallRefused("no-quantix-layout")
 * ```
 */
import type { DiskPlan } from "@quantix/core";
import type { Runner } from "./disks.ts";
import { InstallRefused } from "./preflight.ts";

export interface GptEntry {
  readonly number: number;
  readonly startSector: number;
  readonly endSector: number;
  readonly code: string;
  readonly name: string;
}

/** Parses the partition lines of `sgdisk --print`. */
export function parseSgdiskPrint(text: string): GptEntry[] {
  const out: GptEntry[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+[\d.]+\s+\S+\s+([0-9A-Fa-f]{4})\s*(.*)$/.exec(line);
    if (!m) continue;
    out.push({ number: Number(m[1]), startSector: Number(m[2]), endSector: Number(m[3]), code: m[4]!.toLowerCase(), name: (m[5] ?? "").trim() });
  }
  return out;
}

/** What differs between the disk's GPT and the plan (empty: it is the core layout). */
export function layoutDifferences(entries: readonly GptEntry[], plan: DiskPlan): string[] {
  const diffs: string[] = [];
  for (const p of plan.partitions) {
    const e = entries.find((x) => x.number === p.number);
    if (!e) {
      diffs.push(`partition ${p.number} (${p.gptName}) is missing`);
      continue;
    }
    if (e.name !== p.gptName) diffs.push(`partition ${p.number} is named "${e.name}", expected ${p.gptName}`);
    const endOk = p.role === "data" ? e.endSector >= e.startSector : e.endSector === p.endSector;
    if (e.startSector !== p.startSector || !endOk) {
      diffs.push(`${p.gptName} spans sectors ${e.startSector}-${e.endSector}, expected ${p.startSector}-${p.role === "data" ? "end" : p.endSector}`);
    }
  }
  return diffs;
}

/** Throws InstallRefused("no-quantix-layout") unless `device` carries the core layout. */
export async function checkExistingLayout(device: string, plan: DiskPlan, run: Runner): Promise<void> {
  const r = await run("sgdisk", ["--print", device], { allowFailure: true });
  const entries = r.exitCode === 0 ? parseSgdiskPrint(r.stdout) : [];
  const diffs = entries.length ? layoutDifferences(entries, plan) : ["no GPT partition table"];
  if (diffs.length) {
    throw new InstallRefused("no-quantix-layout", device, `does not hold a Quantix-OS installation to upgrade: ${diffs.slice(0, 3).join("; ")}`, {
      hint: "install instead (this erases the disk), or choose the disk Quantix-OS is installed on",
    });
  }
}
