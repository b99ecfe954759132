/**
 * @module live/live
 * The installer on the live ISO (`qx-install live`, OpenRC service
 * `quantix-installer` on tty1). It installs the system image the live system itself
 * runs from (`/run/qx/system.squashfs`, copied into RAM by the initramfs), then:
 *
 * - **unattended** when the disk is named and the erase confirmed in advance
 *   (`qx.install=/dev/X qx.install.yes`, or `disk:` + `erase: true` in an answer
 *   file): progress lines on the terminal and the system console, then the `after`
 *   action. A refusal or failure falls back to the interactive installer, with the
 *   reason on screen, nothing written;
 * - **interactive** otherwise: the disk list on the terminal (see ui/).
 *
 * @example
 * ```ts
 * await runLive({ tty: "/dev/tty1" });
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { openSystemImage, parseKeyValue } from "@quantix/core";
import { type ResolvedAnswers, resolveAnswers } from "../answers/source.ts";
import { type DiskEnv, defaultDiskEnv, listDisks } from "../engine/disks.ts";
import { runInstallerUi } from "../ui/tty-app.ts";
import { afterInstall, installToDisk, summary, textProgress } from "./session.ts";

export interface LiveOptions {
  readonly tty?: string;
  /** Root of the running system ("/"; tests use a directory). */
  readonly root?: string;
  /** Overrides the system image (default: the initramfs's RAM copy). */
  readonly imagePath?: string;
  readonly diskEnv?: DiskEnv;
  /** Where unattended progress lines go besides the terminal (default /dev/console: the serial console). */
  readonly consolePath?: string;
  readonly resolve?: (cmdline: string) => Promise<ResolvedAnswers>;
  readonly after?: (what: "reboot" | "poweroff" | "stay") => Promise<void>;
  /** Interactive fallback (default: the TTY UI). */
  readonly interactive?: (o: Parameters<typeof runInstallerUi>[0]) => Promise<void>;
}

async function writer(paths: readonly string[]): Promise<(line: string) => void> {
  const handles = await Promise.all(paths.map((p) => fs.open(p, "r+").catch(() => null)));
  return (line) => {
    const text = `qx-install: ${line}\r\n`;
    process.stdout.write(`qx-install: ${line}\n`);
    for (const h of handles) if (h) void h.write(text).catch(() => undefined);
  };
}

/** Runs the live installer: unattended when the answers say so, else the interactive UI. */
export async function runLive(o: LiveOptions = {}): Promise<"installed" | "interactive"> {
  const root = o.root ?? "/";
  const status = parseKeyValue(await fs.readFile(join(root, "run/quantix/initramfs.status"), "utf8").catch(() => ""));
  const imagePath = o.imagePath ?? status.QX_SQUASHFS_FILE ?? "/run/qx/system.squashfs";
  const image = await openSystemImage(imagePath);
  const env = o.diskEnv ?? defaultDiskEnv();
  const out = await writer([...(o.tty ? [o.tty] : []), o.consolePath ?? join(root, "dev/console")]);
  const cmdline = await fs.readFile(join(root, "proc/cmdline"), "utf8").catch(() => "");

  let answers: ResolvedAnswers | null = null;
  let message = "";
  try {
    answers = await (o.resolve ?? ((c: string) => resolveAnswers({ cmdline: c })))(cmdline);
    for (const w of answers.warnings) out(`warning: ${w}`);
    if (answers.fileSource) out(`answer file ${answers.fileSource}`);
  } catch (e) {
    message = e instanceof Error ? e.message : String(e);
    out(`answer file not used: ${message}`);
  }

  // The service respawns the installer; an unattended install runs once per live boot.
  const marker = join(root, "run/quantix/installed");
  const installedBefore = await fs.readFile(marker, "utf8").catch(() => null);
  if (installedBefore) message = `${installedBefore.trim()}; remove the installation medium and reboot`;
  else if (answers?.unattended && answers.disk) {
    out(`unattended ${answers.mode} of Quantix-OS ${image.version} on ${answers.disk} (data ${answers.data}, then ${answers.after})`);
    const t0 = Date.now();
    try {
      const r = await installToDisk({
        disk: answers.disk,
        mode: answers.mode,
        data: answers.data,
        imagePath,
        answers: answers.file,
        log: textProgress(out),
        diskEnv: env,
      });
      out(summary(r, answers.disk));
      out(`report ${JSON.stringify({ version: r.version, disk: answers.disk, totalMs: Math.round(r.totalMs), phases: r.phases.map((p) => ({ name: p.name, ms: Math.round(p.ms), detail: p.detail })) })}`);
      await fs.mkdir(join(root, "run/quantix"), { recursive: true });
      await fs.writeFile(marker, `${summary(r, answers.disk)}\n`);
      out(answers.after === "stay" ? "done; reboot when ready" : `done; ${answers.after} now`);
      await (o.after ?? afterInstall)(answers.after);
      if (answers.after !== "stay") return "installed";
      message = `${summary(r, answers.disk)}; remove the installation medium and reboot`;
    } catch (e) {
      message = `unattended install on ${answers.disk} failed after ${((Date.now() - t0) / 1000).toFixed(1)} s: ${e instanceof Error ? e.message : String(e)}`;
      out(message);
    }
  }

  await (o.interactive ?? runInstallerUi)({
    ...(o.tty ? { tty: o.tty } : {}),
    imagePath,
    imageBytes: image.sizeBytes,
    version: image.version,
    listDisks: () => listDisks(env),
    answers: answers?.file ?? null,
    preselect: answers?.disk ?? null,
    ...(answers ? { mode: answers.mode, data: answers.data } : {}),
    message,
    diskEnv: env,
    log: (l) => process.stdout.write(`qx-install: ${l}\n`),
  });
  return "interactive";
}
