/**
 * @module cli/qx-install
 * The installer's command line: thin over the install engine.
 *
 *   qx-install image  --image system.squashfs --out disk.img [--size 2G]     (make disk)
 *   qx-install device /dev/vda [--image F] [--yes] [--upgrade] [--data lvm] [--answers answers.yaml]
 *   qx-install disks  [--json]                                             the disks, as the installer sees them
 *   qx-install live   [--tty /dev/tty1]                                    the live ISO's installer (OpenRC)
 *   qx-install hash-password                                               scrypt hash for an answer file (password on stdin)
 *
 * Exit status: 0 done, 1 failed, 2 refused (nothing written).
 */
import { existsSync } from "node:fs";
import { createInterface } from "node:readline/promises";
import { formatBytes, QxError } from "@quantix/core";
import { hashPassword } from "@quantix/node/services/password-hash";
import { Command, InvalidArgumentError, Option } from "commander";
import { conventions, EXIT_USAGE } from "@quantix/core/cli/conventions";
import { loadAnswerFile } from "../answers/answer-file.ts";
import { diskInfo, listDisks } from "../engine/disks.ts";
import { install } from "../engine/install.ts";
import type { InstallEvent } from "../engine/phases.ts";
import { InstallRefused, preflight } from "../engine/preflight.ts";
import { runLive } from "../live/live.ts";
import { installToDisk, summary, textProgress } from "../live/session.ts";
import { confirmWord, diskStatus } from "../ui/model.ts";

const LIVE_IMAGE = "/run/qx/system.squashfs";

function parseSize(v: string): number {
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError("expected a size such as 2G or 2147483648");
  const mult = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[(m[2] ?? "").toUpperCase() as "" | "K" | "M" | "G" | "T"];
  return Number(m[1]) * mult;
}

function printer(json: boolean): (e: InstallEvent) => void {
  if (json) return (e) => process.stdout.write(`${JSON.stringify(e)}\n`);
  return textProgress((l) => process.stdout.write(`${l}\n`));
}

const program = new Command("qx-install").description("Quantix-OS installer engine");
program
  .command("image")
  .description("build a raw GPT disk image with slot A filled (make disk)")
  .requiredOption("--image <file>", "system image (squashfs)")
  .requiredOption("--out <file>", "disk image to write")
  .option("--size <bytes>", "disk image size (e.g. 2G)", parseSize)
  .option("--cmdline <args>", "kernel options stored in the GRUB environment")
  .option("--json", "JSON lines instead of text")
  .action(async (o: { image: string; out: string; size?: number; cmdline?: string; json?: boolean }) => {
    const r = await install({
      mode: "image",
      target: o.out,
      imagePath: o.image,
      ...(o.size !== undefined ? { sizeBytes: o.size } : {}),
      ...(o.cmdline !== undefined ? { cmdline: o.cmdline } : {}),
      log: printer(Boolean(o.json)),
    });
    if (!o.json) process.stdout.write(`disk image ${o.out}: Quantix-OS ${r.version} in ${(r.totalMs / 1000).toFixed(1)}s\n`);
  });

interface DeviceOpts {
  image?: string;
  yes?: boolean;
  upgrade?: boolean;
  data: "xfs" | "lvm";
  answers?: string;
  json?: boolean;
}

program
  .command("device")
  .description("install Quantix-OS on a disk (erases it), or upgrade an installed disk keeping /quantix and /data")
  .argument("<disk>", "the disk, e.g. /dev/sda")
  .option("--image <file>", `system image (default: the running system's, ${LIVE_IMAGE})`)
  .option("--yes", "do not ask: the erase is confirmed")
  .option("--upgrade", "keep /quantix and /data: rewrite only the boot files and the system slots")
  .addOption(new Option("--data <format>", "what the data partition holds").choices(["xfs", "lvm"]).default("xfs"))
  .option("--answers <file>", "answer file: hostname, network, admin_password_hash for the first boot")
  .option("--json", "JSON lines instead of text")
  .action(async (disk: string, o: DeviceOpts) => {
    const imagePath = o.image ?? (existsSync(LIVE_IMAGE) ? LIVE_IMAGE : undefined);
    if (!imagePath) throw new InvalidArgumentError(`no system image: pass --image (${LIVE_IMAGE} exists only on a running Quantix-OS)`);
    const answers = o.answers ? await loadAnswerFile(o.answers) : null;
    const mode = o.upgrade ? "upgrade" : "install";
    if (!o.yes) {
      if (!process.stdin.isTTY) throw new InvalidArgumentError("not on a terminal: pass --yes to confirm the erase");
      const info = await diskInfo(disk);
      preflight(info, { mode, imageBytes: 0 }); // refusals before the question; the engine checks again
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const what = mode === "install" ? "ALL DATA on it will be erased" : "its system slots and boot files will be rewritten";
      const typed = await rl.question(`${disk} (${formatBytes(info.sizeBytes)} ${info.model}, ${info.contents || "no data found"}): ${what}. Type ${confirmWord(info)} to continue: `);
      rl.close();
      if (typed.trim() !== confirmWord(info)) {
        process.stderr.write("qx-install: not confirmed; nothing was written\n");
        process.exitCode = 3;
        return;
      }
    }
    const r = await installToDisk({ disk, mode, data: o.data, imagePath, answers, log: printer(Boolean(o.json)) });
    if (!o.json) process.stdout.write(`${summary(r, disk)}\n`);
  });

program
  .command("disks")
  .description("list the disks with size, model, contents and whether they can be installed to")
  .option("--json", "JSON")
  .action(async (o: { json?: boolean }) => {
    const disks = await listDisks();
    if (o.json) return void process.stdout.write(`${JSON.stringify(disks, null, 2)}\n`);
    // One verdict per disk, the installer's own (ui/model diskStatus), then what is on it and why it cannot be used.
    for (const d of disks) {
      const { status, why } = diskStatus(d, "install", 0);
      process.stdout.write(
        `${d.device.padEnd(14)} ${formatBytes(d.sizeBytes).padStart(10)}  ${(d.model || "-").padEnd(20)} ${status.padEnd(11)} ${d.contents || "-"}${why ? `  (${why.replace(`${d.device}: `, "").replace(/; nothing was written.*$/, "")})` : ""}\n`,
      );
    }
  });

program
  .command("live")
  .description("the live ISO's installer: unattended with qx.install= + qx.install.yes or an answer file, else interactive")
  .option("--tty <path>", "terminal for the interactive installer (default: stdin/stdout)")
  .action(async (o: { tty?: string }) => {
    await runLive(o.tty ? { tty: o.tty } : {});
  });

program
  .command("hash-password")
  .description("print the scrypt hash of the password read from stdin, for admin_password_hash in an answer file")
  .action(async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const password = Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
    if (password.length < 8) throw new InvalidArgumentError("the password must have at least 8 characters");
    process.stdout.write(`${await hashPassword(password)}\n`);
  });

// Exit codes (docs/cli.md): 2 usage, 3 refused or not confirmed (nothing written), 1 the install failed.
conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof InvalidArgumentError) {
    process.stderr.write(`error: ${e.message}\n(see qx-install --help)\n`);
    process.exit(EXIT_USAGE);
  }
  process.stderr.write(`qx-install: ${e instanceof QxError || e instanceof Error ? e.message : String(e)}\n`);
  process.exit(e instanceof InstallRefused ? 3 : 1);
});
