#!/usr/bin/env node
/**
 * @module cli/qx-datamount
 * The VM data partition (OpenRC service `quantix-data`):
 *
 *   qx-datamount [mount]   find QX_DATA, format it only when blank, mount it on /data
 *   qx-datamount umount    unmount /data
 *
 * Exit status of mount: 0 mounted (or already), 1 failed, 2 refused (the partition
 * holds something else; nothing was changed), 3 no data partition.
 */
import { Command } from "commander";
import { conventions } from "@quantix/core/cli/conventions";
import { defaultDataEnv, mountData, unmountData } from "../services/data-mount.ts";

const EXIT = { mounted: 0, "already-mounted": 0, failed: 1, refused: 4, "not-found": 3 } as const;

const program = new Command("qx-datamount").description("mount the Quantix-OS data partition on /data");
program
  .command("mount", { isDefault: true })
  .description("find, check (format only when blank) and mount the data partition")
  .option("--json", "print the result as JSON")
  .action(async (o: { json?: boolean }) => {
    const r = await mountData(defaultDataEnv({ log: (l) => process.stderr.write(`qx-datamount: ${l}\n`) }));
    if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    process.exitCode = EXIT[r.state];
  });
program
  .command("umount")
  .description("unmount /data")
  .action(async () => {
    const env = defaultDataEnv();
    process.stdout.write((await unmountData(env)) ? `${env.mountpoint} unmounted\n` : `${env.mountpoint} was not mounted\n`);
  });

conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-datamount: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
