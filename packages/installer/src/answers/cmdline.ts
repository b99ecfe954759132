/**
 * @module answers/cmdline
 * The installer's kernel options, parsed against an allow-list (the initramfs passes
 * `qx.*` words through untouched; it validates only the ones it uses itself):
 *
 * | option | meaning |
 * |---|---|
 * | `qx.install=/dev/X` | the disk to install to |
 * | `qx.install.yes` | the erase is confirmed in advance: install without asking |
 * | `qx.install.mode=install\|upgrade` | upgrade keeps /quantix and /data |
 * | `qx.install.data=xfs\|lvm` | what the data partition holds |
 * | `qx.install.after=reboot\|poweroff\|stay` | what to do when done |
 * | `qx.install.answers=LABEL` | the label of the filesystem holding `answers.yaml` (default `QX_ANSWERS`) |
 *
 * @example
 * ```ts
 * parseInstallCmdline("quiet qx.live=1 qx.install=/dev/vda qx.install.yes"); // { options: { disk: "/dev/vda", yes: true }, warnings: [] }
 * ```
 */
import { AfterInstall, DiskPath } from "./answer-file.ts";

export const DEFAULT_ANSWERS_LABEL = "QX_ANSWERS";

export interface InstallCmdline {
  disk?: string;
  yes?: boolean;
  mode?: "install" | "upgrade";
  data?: "xfs" | "lvm";
  after?: AfterInstall;
  answersLabel?: string;
}

/** Parses /proc/cmdline text; invalid values are dropped with a warning, never guessed. */
export function parseInstallCmdline(cmdline: string): { options: InstallCmdline; warnings: string[] } {
  const options: InstallCmdline = {};
  const warnings: string[] = [];
  for (const word of cmdline.trim().split(/\s+/)) {
    if (!word.startsWith("qx.install")) continue;
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    const val = eq < 0 ? "" : word.slice(eq + 1);
    const bad = (expected: string) => warnings.push(`ignoring ${word}: expected ${expected}`);
    switch (key) {
      case "qx.install":
        if (DiskPath.safeParse(val).success) options.disk = val;
        else bad("a disk device such as /dev/sda");
        break;
      case "qx.install.yes":
        if (val === "" || val === "1") options.yes = true;
        else if (val === "0") options.yes = false;
        else bad("qx.install.yes or qx.install.yes=1");
        break;
      case "qx.install.mode":
        if (val === "install" || val === "upgrade") options.mode = val;
        else bad("install or upgrade");
        break;
      case "qx.install.data":
        if (val === "xfs" || val === "lvm") options.data = val;
        else bad("xfs or lvm");
        break;
      case "qx.install.after": {
        const r = AfterInstall.safeParse(val);
        if (r.success) options.after = r.data;
        else bad("reboot, poweroff or stay");
        break;
      }
      case "qx.install.answers":
        if (/^[A-Za-z0-9_.-]{1,32}$/.test(val)) options.answersLabel = val;
        else bad("a filesystem label (letters, digits, '_', '.', '-')");
        break;
      default:
        warnings.push(`ignoring unknown installer option ${word}`);
    }
  }
  return { options, warnings };
}
