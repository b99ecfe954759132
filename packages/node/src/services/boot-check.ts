/**
 * @module services/boot-check
 * Did the boot-time jobs work? qx-boot (OpenRC quantix-boot) records each phase —
 * first boot, management network, /data, vswitch, boot environment — in
 * `/run/quantix/boot.json`; a failed phase fails this component with its reason, so a
 * boot that went half wrong is visible in the health document (and fails an update's
 * health gate) instead of only in the boot log.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { BOOT_REPORT, BootReport } from "../boot/boot-sequence.ts";
import { type Check, oneLine } from "./check.ts";

export const checkBoot: Check = async (ctx) => {
  const file = join(ctx.root, BOOT_REPORT);
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === "ENOENT";
    return { ok: false, detail: missing ? `no boot report in /${BOOT_REPORT}: qx-boot did not run or did not finish (rc-service quantix-boot status)` : oneLine(e) };
  }
  let report: BootReport;
  try {
    report = BootReport.parse(JSON.parse(text));
  } catch {
    return { ok: false, detail: `/${BOOT_REPORT} is not a boot report` };
  }
  const failed = report.phases.filter((p) => p.status === "failed");
  const data = { phases: report.phases.length, failed: failed.length, seconds: Math.round(Math.max(0, ...report.phases.map((p) => p.startMs + p.ms)) / 100) / 10 };
  if (failed.length) return { ok: false, detail: failed.map((p) => `${p.name}: ${p.message}`).join("; "), data };
  return { ok: true, detail: `${report.phases.map((p) => `${p.name} ${p.status}`).join(", ")}`, data };
};
