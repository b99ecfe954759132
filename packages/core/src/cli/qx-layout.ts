/**
 * @module cli/qx-layout
 * Prints the disk layout for other tools: `--json` (default) or `--shell` (variable
 * assignments for the builder), optionally planned for a disk size, and the GRUB
 * configuration files generated from the same definitions.
 *
 *   qx-layout [--json|--shell] [--disk-size BYTES]
 *   qx-layout grub-cfg disk|embedded
 *   qx-layout grub-cfg iso --version V
 *   qx-layout grubenv-initial --version V [--cmdline "..."] [--watchdog S]
 */
import { parseArgs } from "node:util";
import { bootEnvToGrubEnv, DEFAULT_BOOT_SETTINGS } from "../boot/boot-env.ts";
import { diskGrubCfg, embeddedGrubCfg, GRUB_MODULES_BIOS, GRUB_MODULES_EFI, isoGrubCfg } from "../boot/grub-cfg.ts";
import { encodeGrubEnv } from "../boot/grub-env.ts";
import { initialState } from "../boot/slots.ts";
import { QxError } from "../errors.ts";
import {
  ALIGNMENT_BYTES,
  BIOS_BOOT,
  ESP_PATHS,
  IMAGE_PATHS,
  layoutShell,
  MIN_DATA_BYTES,
  MIN_DISK_BYTES,
  PARTITIONS,
  planDisk,
} from "../layout.ts";

function usage(): never {
  process.stderr.write(
    "usage: qx-layout [--json|--shell] [--disk-size BYTES]\n" +
      "       qx-layout grub-cfg disk|embedded|iso [--version V]\n" +
      "       qx-layout grub-modules efi|bios\n" +
      "       qx-layout grubenv-initial --version V [--cmdline ARGS] [--watchdog SECONDS] > grubenv\n",
  );
  process.exit(2);
}

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean" },
      shell: { type: "boolean" },
      "disk-size": { type: "string" },
      version: { type: "string" },
      cmdline: { type: "string" },
      watchdog: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) usage();
  const [cmd, arg] = positionals;
  if (cmd === "grub-cfg") {
    if (arg === "disk") process.stdout.write(diskGrubCfg());
    else if (arg === "embedded") process.stdout.write(embeddedGrubCfg());
    else if (arg === "iso" && values.version) process.stdout.write(isoGrubCfg({ version: values.version }));
    else usage();
    return;
  }
  if (cmd === "grub-modules") {
    if (arg === "efi") process.stdout.write(`${GRUB_MODULES_EFI.join(" ")}\n`);
    else if (arg === "bios") process.stdout.write(`${GRUB_MODULES_BIOS.join(" ")}\n`);
    else usage();
    return;
  }
  if (cmd === "grubenv-initial") {
    if (!values.version) usage();
    const watchdog = values.watchdog ? Number(values.watchdog) : DEFAULT_BOOT_SETTINGS.watchdogSeconds;
    const env = bootEnvToGrubEnv({
      state: initialState(values.version),
      settings: { watchdogSeconds: watchdog, cmdline: values.cmdline ?? DEFAULT_BOOT_SETTINGS.cmdline },
    });
    process.stdout.write(encodeGrubEnv(env));
    return;
  }
  if (cmd !== undefined) usage();
  const plan = values["disk-size"] !== undefined ? planDisk(Number(values["disk-size"])) : undefined;
  if (values.shell) {
    process.stdout.write(layoutShell(plan));
    return;
  }
  process.stdout.write(
    `${JSON.stringify(
      {
        partitions: plan?.partitions ?? PARTITIONS,
        alignmentBytes: ALIGNMENT_BYTES,
        biosBoot: BIOS_BOOT,
        minDiskBytes: MIN_DISK_BYTES,
        minDataBytes: MIN_DATA_BYTES,
        esp: ESP_PATHS,
        image: IMAGE_PATHS,
        diskBytes: plan?.diskBytes ?? null,
      },
      null,
      2,
    )}\n`,
  );
}

try {
  main(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`qx-layout: ${e instanceof QxError ? e.message : String(e)}\n`);
  process.exit(1);
}
