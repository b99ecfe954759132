#!/usr/bin/env node
/**
 * @module cli/qx-update
 * qx-update: argument parsing over the library (see ../index.ts).
 *
 *   qx-update --image FILE|https://URL [--sig FILE] [--allow-downgrade] [--reboot] [--json]
 *   qx-update status [--json]
 *   qx-update verify FILE [--sig FILE] [--keys DIR] [--allow-downgrade] [--json]
 *   qx-update mark-good | rollback [--reboot] | boot-check
 *
 * Exit codes: see ./exit-codes.ts (0 ok, 2 usage, 3 image rejected, 4 slot model
 * refused, 5 slot write failed, 6 boot env/ESP, 7 not a node, 8 download, 9 health gate).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError, Command } from "commander";
import { conventions } from "@quantix/core/cli/conventions";
import { partition, planDisk, QxError, run } from "@quantix/core";
import { bootCheck, nodeHealth } from "../boot-check.ts";
import { nodeUpdateContext, type UpdateContext } from "../context.ts";
import { downloadImage } from "../download.ts";
import { dirEsp } from "../esp.ts";
import { applyUpdate } from "../install.ts";
import { formatStatus, markGoodNow, readStatus, rollbackNow } from "../manage.ts";
import { progressPrinter } from "../progress.ts";
import { imageFileSlots } from "../slot-targets.ts";
import { verifyImage } from "../verify.ts";
import { deviceWatchdog } from "../watchdog.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { promises as fs } from "node:fs";

// openpgp uses WebCrypto Ed25519, which Node 20 flags as experimental on stderr: errors must stay one line.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "ExperimentalWarning") process.stderr.write(`qx-update: warning: ${w.message}\n`);
});

interface Globals {
  root?: string;
  espDir?: string;
  diskImage?: string;
  json?: boolean;
}


async function context(g: Globals, quiet: boolean): Promise<UpdateContext> {
  const disk = g.diskImage;
  return nodeUpdateContext({
    ...(g.root ? { root: g.root } : {}),
    ...(g.espDir ? { esp: dirEsp(g.espDir) } : {}),
    ...(disk ? { slots: imageFileSlots(disk, planDisk((await fs.stat(disk)).size)) } : {}),
    log: quiet ? () => undefined : (l) => process.stderr.write(`qx-update: ${l}\n`),
  });
}

function print(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
}

async function reboot(): Promise<void> {
  await run("reboot", []);
}

const program = new Command("qx-update")
  .description("Quantix-OS system updates: signed images into the inactive slot, health-gated trial boot, rollback")
  .option("--image <file|url>", "apply this system image (squashfs) to the inactive slot")
  .option("--sig <file>", "detached OpenPGP signature (default: IMAGE.sig)")
  .option("--allow-downgrade", "accept an image older than the running version (refused otherwise)")
  .option("--reboot", "reboot when done")
  .option("--json", "machine-readable output")
  .option("--root <dir>", "system root (tests)", undefined)
  .option("--esp-dir <dir>", "use a directory as the ESP instead of mounting it (tests, images)")
  .option("--disk-image <file>", "slots are in this disk image file instead of the node's partitions (tests, images)")
  .action(async (o: Globals & { image?: string; sig?: string; reboot?: boolean; allowDowngrade?: boolean }) => {
    if (!o.image) {
      program.outputHelp();
      process.exitCode = EXIT.usage;
      return;
    }
    const ctx = await context(o, Boolean(o.json));
    const mode = o.json ? "none" : process.stderr.isTTY ? "tty" : "lines";
    const progress = progressPrinter(process.stderr, mode);
    let image = o.image;
    let workDir: string | null = null;
    try {
      if (/^https?:\/\//.test(image)) {
        workDir = mkdtempSync(join(tmpdir(), "qx-update-"));
        image = (await downloadImage(image, workDir, (d, t) => progress("verify", d, t))).image;
      }
      const r = await applyUpdate(ctx, { image, ...(o.sig ? { sigPath: o.sig } : {}), allowDowngrade: Boolean(o.allowDowngrade), onProgress: progress });
      print(
        Boolean(o.json),
        r,
        `installed ${r.version} into slot ${r.slot} (${(r.bytes / 2 ** 20).toFixed(1)} MiB, ${(r.ms.total / 1000).toFixed(1)} s); ` +
          `it boots on trial (${r.tries} tries) at the next reboot${o.reboot ? ": rebooting now" : "; run `reboot`"}`,
      );
      if (o.reboot) await reboot();
    } finally {
      if (workDir) rmSync(workDir, { recursive: true, force: true });
    }
  });

program
  .command("status")
  .description("slots, versions, booted/primary, tries left, last update and why the last rollback happened")
  .option("--json", "machine-readable output")
  .action(async (_o, cmd: Command) => {
    const g = cmd.optsWithGlobals<Globals>();
    const s = await readStatus(await context(g, true));
    print(Boolean(g.json), s, formatStatus(s));
  });

program
  .command("verify <file>")
  .description("run every pre-write check without writing (works on a workstation too)")
  .option("--keys <dir>", "trusted public keys (*.asc) (default: /etc/quantix/keys of this system)")
  .option("--json", "machine-readable output")
  .action(async (file: string, _o, cmd: Command) => {
    const g = cmd.optsWithGlobals<Globals & { keys?: string; sig?: string; allowDowngrade?: boolean }>();
    const ctx = await context(g, Boolean(g.json));
    const [running, settings] = await Promise.all([ctx.running(), ctx.settings()]);
    const v = await verifyImage(file, {
      keysDir: g.keys ?? ctx.keysDir,
      allowUnsigned: settings.allow_unsigned,
      running,
      slotBytes: partition("system-a").sizeBytes ?? 0,
      ...(g.sig ? { sigPath: g.sig } : {}),
      allowDowngrade: Boolean(g.allowDowngrade) || settings.allow_downgrade,
      log: ctx.log,
    });
    print(
      Boolean(g.json),
      v,
      `${file}: OK: Quantix-OS ${v.version} (${v.arch}), ${(v.bytes / 2 ** 20).toFixed(1)} MiB, sha256 ${v.sha256}, ` +
        `${v.signedBy ? `signed by ${v.signedBy}` : "UNSIGNED (allowed by node.yaml)"}` +
        (running.version ? "" : " (running version unknown: same-version rule not checked)"),
    );
  });

program
  .command("mark-good")
  .description("mark the booted slot good (the boot-time health gate does this by itself)")
  .action(async (_o, cmd: Command) => {
    const g = cmd.optsWithGlobals<Globals>();
    const r = await markGoodNow(await context(g, Boolean(g.json)));
    await deviceWatchdog().disarm();
    print(Boolean(g.json), r, r.changed ? `slot ${r.slot} marked good` : `slot ${r.slot} was already good`);
  });

program
  .command("rollback")
  .description("boot the other (good) slot from the next reboot on")
  .option("--reboot", "reboot now")
  .action(async (_o, cmd: Command) => {
    const g = cmd.optsWithGlobals<Globals & { reboot?: boolean }>();
    const r = await rollbackNow(await context(g, Boolean(g.json)));
    print(Boolean(g.json), r, `next boot: slot ${r.to} (${r.version ?? "?"}) instead of ${r.from}${g.reboot ? ": rebooting now" : "; run `reboot`"}`);
    if (g.reboot) await reboot();
  });

program
  .command("boot-check")
  .description("at boot: repair the boot env, record GRUB rollbacks, and run the health gate on a trial boot")
  .action(async (_o, cmd: Command) => {
    const g = cmd.optsWithGlobals<Globals>();
    const ctx = await context(g, false);
    const r = await bootCheck({ ctx, health: nodeHealth(), watchdog: deviceWatchdog(), reboot });
    print(Boolean(g.json), r, `boot-check: ${r.outcome} (slot ${r.slot ?? "-"}, ${r.seconds} s)`);
    if (r.outcome === "rolled-back") process.exitCode = EXIT.healthGate;
  });

conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : EXIT.usage);
  }
  const code = exitCodeFor(e);
  const msg = e instanceof QxError ? e.message : e instanceof Error ? e.message : String(e);
  if (process.argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify({ error: { name: (e as Error).name, code: (e as QxError).code ?? null, message: msg, exit: code } })}\n`);
  }
  process.stderr.write(`qx-update: ${msg.split("\n")[0]}\n`);
  process.exit(code);
});
