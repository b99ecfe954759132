/**
 * @module cli/qx-install
 * The installer's command line: thin over the install engine.
 *
 *   qx-install image --image system.squashfs --out disk.img [--size 2G]
 */
import { Command, InvalidArgumentError } from "commander";
import { QxError } from "@quantix/core";
import { install } from "../engine/install.ts";
import type { InstallEvent } from "../engine/phases.ts";

function parseSize(v: string): number {
  const m = /^(\d+)([KMGT]?)i?B?$/i.exec(v.trim());
  if (!m) throw new InvalidArgumentError("expected a size such as 2G or 2147483648");
  const mult = { "": 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 }[(m[2] ?? "").toUpperCase() as "" | "K" | "M" | "G" | "T"];
  return Number(m[1]) * mult;
}

function printer(json: boolean): (e: InstallEvent) => void {
  let lastPct = -1;
  return (e) => {
    if (json) {
      process.stdout.write(`${JSON.stringify(e)}\n`);
      return;
    }
    if (e.type === "phase-start") process.stdout.write(`==> ${e.phase}\n`);
    else if (e.type === "phase-done") process.stdout.write(`<== ${e.phase} ${(e.ms / 1000).toFixed(1)}s${e.detail ? `  ${e.detail}` : ""}\n`);
    else {
      const pct = Math.floor((100 * e.done) / Math.max(1, e.total));
      if (pct !== lastPct && pct % 25 === 0) {
        lastPct = pct;
        process.stdout.write(`    ${e.phase} ${pct}%\n`);
      }
    }
  };
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

program.parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-install: ${e instanceof QxError ? e.message : e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
