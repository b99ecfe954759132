/**
 * @module live/session
 * One install as the live installer and `qx-install device` run it: the engine on a
 * disk, the answer file's first-boot values left on the config partition as
 * `/quantix/install.yaml`, progress as text lines, and the action after it (reboot,
 * power off or stay). The interactive UI and the unattended path both call
 * {@link installToDisk}; only how the disk was chosen differs.
 *
 * @example
 * ```ts
 * const r = await installToDisk({ disk: "/dev/vda", mode: "install", data: "xfs", imagePath, answers: null, log: textProgress(print) });
 * ```
 */
import { run as coreRun, openSystemImage } from "@quantix/core";
import { type AfterInstall, type AnswerFile, INSTALL_SEED_FILE, seedFromAnswers } from "../answers/answer-file.ts";
import type { DiskEnv, Runner } from "../engine/disks.ts";
import { type InstallReport, install } from "../engine/install.ts";
import type { DataFormat, InstallEvent } from "../engine/phases.ts";

export interface SessionRequest {
  readonly disk: string;
  readonly mode: "install" | "upgrade";
  readonly data: DataFormat;
  readonly imagePath: string;
  /** The answer file, whose hostname/network/admin hash go to /quantix/install.yaml (install mode). */
  readonly answers: Partial<AnswerFile> | null;
  readonly log?: (e: InstallEvent) => void;
  readonly diskEnv?: DiskEnv;
  readonly now?: () => Date;
}

/** Installs (or upgrades) `disk`; every refusal is thrown before anything is written. */
export async function installToDisk(r: SessionRequest): Promise<InstallReport> {
  const configFiles: Record<string, string> = {};
  if (r.mode === "install" && r.answers) {
    const image = await openSystemImage(r.imagePath);
    const seed = seedFromAnswers(r.answers, image.version, r.now?.() ?? new Date());
    // JSON is YAML: core's loader reads it back; the header says where it came from.
    if (seed) configFiles[INSTALL_SEED_FILE] = `# Written by qx-install from the answer file; read by qx-firstboot.\n${JSON.stringify(seed, null, 2)}\n`;
  }
  return install({
    mode: r.mode,
    target: r.disk,
    imagePath: r.imagePath,
    configFiles,
    data: r.data,
    ...(r.log ? { log: r.log } : {}),
    ...(r.diskEnv ? { diskEnv: r.diskEnv } : {}),
  });
}

/** Turns engine events into text lines (`==> phase`, `<== phase 1.2s detail`, progress every 25%). */
export function textProgress(write: (line: string) => void): (e: InstallEvent) => void {
  const last = new Map<string, number>();
  return (e) => {
    if (e.type === "phase-start") write(`==> ${e.phase}`);
    else if (e.type === "phase-done") write(`<== ${e.phase} ${(e.ms / 1000).toFixed(1)}s${e.detail ? `  ${e.detail}` : ""}`);
    else {
      const pct = Math.floor((100 * e.done) / Math.max(1, e.total));
      const step = pct - (pct % 25);
      if (step !== (last.get(e.phase) ?? -1)) {
        last.set(e.phase, step);
        write(`    ${e.phase} ${step}%`);
      }
    }
  };
}

/** One line summing up an install for logs and the bench: total, and the raw copy (slot A write + verify). */
export function summary(r: InstallReport, disk: string): string {
  const slot = r.phases.find((p) => p.name === "slot-a");
  const share = slot ? ((100 * slot.ms) / r.totalMs).toFixed(0) : "0";
  return `installed Quantix-OS ${r.version} on ${disk} in ${(r.totalMs / 1000).toFixed(1)} s (slot A copy ${((slot?.ms ?? 0) / 1000).toFixed(1)} s, ${share}%)`;
}

/** What happens after a finished install. */
export async function afterInstall(after: AfterInstall, run: Runner = coreRun): Promise<void> {
  if (after === "reboot") await run("reboot", []);
  else if (after === "poweroff") await run("poweroff", []);
}
