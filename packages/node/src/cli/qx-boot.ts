#!/usr/bin/env node
/**
 * @module cli/qx-boot
 * `qx-boot [--root DIR] [--json]`: the node's boot-time jobs in one process (OpenRC
 * service `quantix-boot`, before libvirtd and qx-node): first boot, management
 * network, /data, Open vSwitch bridges, GRUB environment (see boot/node-boot.ts).
 * Writes the report to /run/quantix/boot.json. Exit 0 when every phase succeeded or
 * had nothing to do, 1 when one failed (the others still ran), 2 on a usage error.
 */
import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "@quantix/core";
import { Command } from "commander";
import { conventions } from "@quantix/core/cli/conventions";
import { runBootPhases } from "../boot/boot-sequence.ts";
import { BOOT_REPORT, nodeBootPhases } from "../boot/node-boot.ts";

const program = new Command("qx-boot")
  .description("run the node's boot-time jobs (first boot, network, /data, vswitch, boot environment) and report them")
  .option("--root <dir>", "filesystem root (tests)", "/")
  .option("--json", "print the report as JSON")
  .action(async (opts: { root: string; json?: boolean }) => {
    const log = (line: string) => process.stdout.write(`qx-boot: ${line}\n`);
    const report = await runBootPhases(nodeBootPhases({ root: opts.root, log }), { log });
    const file = join(opts.root, BOOT_REPORT);
    await fs.mkdir(dirname(file), { recursive: true });
    await writeFileAtomic(file, `${JSON.stringify(report, null, 2)}\n`);
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    if (!report.ok) {
      process.stderr.write(`qx-boot: failed: ${report.phases.filter((p) => p.status === "failed").map((p) => p.name).join(", ")} (reasons above; qx-node's health reports them)\n`);
      process.exitCode = 1;
    }
  });

conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-boot: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
