/**
 * @module cli/qx-layout
 * Prints the disk layout for other tools: `--json` (default) or `--shell` (variable
 * assignments for the builder), optionally planned for a disk size, and the GRUB
 * configuration files generated from the same definitions.
 *
 *   qx-layout [--json|--shell] [--disk-size BYTES]
 *   qx-layout grub-cfg disk|embedded
 *   qx-layout grub-cfg iso --version V
 *   qx-layout grub-modules efi|bios
 *   qx-layout grubenv-initial --version V [--cmdline "..."] [--watchdog S]
 *
 * Usage errors exit 2, other failures 1 (cli/conventions).
 */
import { Argument, Command, InvalidArgumentError } from "commander";
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
import { conventions, usageError } from "./conventions.ts";

function bytes(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError("expected a size in bytes (a whole number)");
  return n;
}

function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError("expected a number of seconds");
  return n;
}

// Positional options: `grub-cfg iso --version V` is the subcommand's option, not the tool's --version.
const program = new Command("qx-layout")
  .description("print the Quantix-OS disk layout (JSON, or shell variables for the builder) and the GRUB files made from it")
  .enablePositionalOptions()
  .option("--json", "print JSON (the default)")
  .option("--shell", "print shell variable assignments")
  .option("--disk-size <bytes>", "plan the partitions for a disk of this size", bytes)
  .action((o: { json?: boolean; shell?: boolean; diskSize?: number }) => {
    const plan = o.diskSize !== undefined ? planDisk(o.diskSize) : undefined;
    if (o.shell) {
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
  });

program
  .command("grub-cfg")
  .description("print a GRUB configuration: the disk's, the one embedded in the GRUB image, or the ISO's")
  .addArgument(new Argument("<kind>", "which configuration").choices(["disk", "embedded", "iso"]))
  .option("--version <version>", "the release the ISO carries (iso only)")
  .action((kind: string, o: { version?: string }, cmd: Command) => {
    if (kind === "disk") process.stdout.write(diskGrubCfg());
    else if (kind === "embedded") process.stdout.write(embeddedGrubCfg());
    else if (o.version) process.stdout.write(isoGrubCfg({ version: o.version }));
    else usageError(cmd, "grub-cfg iso needs --version VERSION");
  });

program
  .command("grub-modules")
  .description("print the GRUB modules built into the EFI or BIOS image")
  .addArgument(new Argument("<firmware>", "which image").choices(["efi", "bios"]))
  .action((firmware: string) => {
    process.stdout.write(`${(firmware === "efi" ? GRUB_MODULES_EFI : GRUB_MODULES_BIOS).join(" ")}\n`);
  });

program
  .command("grubenv-initial")
  .description("print the GRUB environment block of a fresh install (slot A trying VERSION)")
  .requiredOption("--version <version>", "the release installed in slot A")
  .option("--cmdline <args>", "kernel command line", DEFAULT_BOOT_SETTINGS.cmdline)
  .option("--watchdog <seconds>", "watchdog timeout", seconds, DEFAULT_BOOT_SETTINGS.watchdogSeconds)
  .action((o: { version: string; cmdline: string; watchdog: number }) => {
    const env = bootEnvToGrubEnv({ state: initialState(o.version), settings: { watchdogSeconds: o.watchdog, cmdline: o.cmdline } });
    process.stdout.write(encodeGrubEnv(env));
  });

try {
  conventions(program).parse(process.argv);
} catch (e) {
  process.stderr.write(`qx-layout: ${e instanceof QxError ? e.message : String(e)}\n`);
  process.exit(1);
}
