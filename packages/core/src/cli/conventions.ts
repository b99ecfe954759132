/**
 * @module cli/conventions
 * What every Quantix-OS command line does the same way (docs/cli.md):
 * - `--version` on every tool prints `NAME VERSION` (the image's QX_VERSION from
 *   /etc/quantix/release; `development` on a build host) and exits 0;
 * - `--help` on every tool and subcommand, exit 0;
 * - a usage error (unknown option or command, a bad or missing argument) prints one
 *   line saying what is wrong, one line pointing at the right `--help`, and exits
 *   {@link EXIT_USAGE} (2), never 1: 1 means the command ran and failed.
 *
 * Tools declare their commander program as usual and pass it to {@link conventions}
 * once every subcommand is declared; it walks the whole tree.
 *
 * @example
 * ```ts
 * const program = new Command("qx-node").description("...");
 * program.command("serve")...;
 * await conventions(program).parseAsync();
 * ```
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { type Command, CommanderError } from "commander";

/** The exit status of a usage error, in every tool. */
export const EXIT_USAGE = 2;

/** The image's version (QX_VERSION in ROOT/etc/quantix/release), or `development` off an image. */
export function toolVersion(root = "/"): string {
  try {
    const text = readFileSync(join(root, "etc/quantix/release"), "utf8");
    const m = /^QX_VERSION=["']?([^"'\n]+)["']?$/m.exec(text);
    if (m?.[1]) return m[1];
  } catch {
    // not on a Quantix-OS image
  }
  return "development";
}

/** `qx-node serve`: the names from the root to this command. */
function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Applies the conventions to `program` and all its subcommands; returns it. */
export function conventions(program: Command, o: { version?: string } = {}): Command {
  program.version(`${program.name()} ${o.version ?? toolVersion()}`, "-V, --version", "print the version and exit");
  const walk = (cmd: Command) => {
    cmd.showHelpAfterError(`(see ${fullName(cmd)} --help)`);
    cmd.exitOverride((err: CommanderError) => {
      // Help and version exit 0; everything commander refuses is a usage error.
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE);
    });
    for (const sub of cmd.commands) walk(sub);
  };
  walk(program);
  return program;
}

/** A usage error found after parsing (two options that exclude each other...): the same two lines and exit 2. */
export function usageError(cmd: Command, message: string): never {
  process.stderr.write(`error: ${message}\n(see ${fullName(cmd)} --help)\n`);
  process.exit(EXIT_USAGE);
}

export { CommanderError };
