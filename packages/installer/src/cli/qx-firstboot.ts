#!/usr/bin/env node
/**
 * @module cli/qx-firstboot
 * `qx-firstboot [--root DIR]`: prepares /quantix on the first boot of an installation
 * and applies the hostname on every boot (OpenRC service `quantix-firstboot`, before
 * quantix-network and quantix-node). Exit 0 when every phase succeeded, 1 otherwise.
 */
import { Command } from "commander";
import { conventions } from "@quantix/core/cli/conventions";
import { runFirstboot } from "../firstboot/firstboot.ts";

const program = new Command("qx-firstboot")
  .description("prepare /quantix (identity, network.yaml, certificates/) and apply the hostname; idempotent")
  .option("--root <dir>", "root of the system to prepare (tests)", "/")
  .action(async (opts: { root: string }) => {
    const report = await runFirstboot({ root: opts.root });
    const failed = report.phases.filter((p) => p.status === "failed").map((p) => p.name);
    if (failed.length) {
      process.stderr.write(`qx-firstboot: failed: ${failed.join(", ")}; the next boot retries\n`);
      process.exitCode = 1;
    }
  });

conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-firstboot: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
