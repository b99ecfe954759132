#!/usr/bin/env node
/**
 * @module main
 * The `qx-console` command: the DCUI (full-screen console on tty1 and the serial
 * console), or the plain status banner.
 *
 *   qx-console [--tty /dev/tty1 [--tty /dev/ttyS0]] [--socket PATH] [--interval 5]   the DCUI, one per terminal, one process
 *   qx-console --banner [--tty /dev/tty1] [--interval 5] [--socket PATH]      status banner only
 *   qx-console --banner --once                                               print once to stdout (tests)
 */
import { constants, createWriteStream, openSync, readFileSync } from "node:fs";
import { basename } from "node:path";
import { DEFAULT_SOCKET } from "@quantix/node/client";
import { Command, InvalidArgumentError } from "commander";
import { conventions } from "@quantix/core/cli/conventions";
import { renderBanner } from "./banner.ts";
import { runDcui } from "./dcui.ts";
import { fetchBannerInput } from "./fetch-state.ts";

/** Linux console: home + clear, hide the cursor, no screen blanking. */
const TTY_SETUP = "\x1b[?25l\x1b[9;0]";
const CLEAR = "\x1b[H\x1b[2J";
const HOME = "\x1b[H";
const CLEAR_BELOW = "\x1b[J";

function range(lo: number, hi: number, what: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < lo || n > hi) throw new InvalidArgumentError(`expected ${lo}..${hi} ${what}`);
    return n;
  };
}

interface Options {
  banner?: boolean;
  once?: boolean;
  tty: string[];
  interval: number;
  socket: string;
  shellMinutes: number;
  shell: string;
}

async function banner(opts: Options): Promise<void> {
  if (opts.once) {
    process.stdout.write(renderBanner(await fetchBannerInput(opts.socket)));
    return;
  }
  // The tty is opened here, so no getty (and no login prompt) is involved; O_NOCTTY
  // keeps keyboard signals (Ctrl-C) and hangups on tty1 from reaching this process.
  const tty = opts.tty[0];
  const out: NodeJS.WritableStream = tty ? createWriteStream(tty, { fd: openSync(tty, constants.O_RDWR | constants.O_NOCTTY) }) : process.stdout;
  const isTty = Boolean(tty) || process.stdout.isTTY;
  if (isTty) out.write(TTY_SETUP);
  let first = true;
  const draw = async (): Promise<void> => {
    const text = renderBanner(await fetchBannerInput(opts.socket));
    if (!isTty) return void out.write(text);
    // Overwrite in place (every line is full width), then clear what is below: no flicker.
    out.write(`${first ? CLEAR : HOME}${text}${CLEAR_BELOW}`);
    first = false;
  };
  for (;;) {
    await draw();
    await new Promise((r) => setTimeout(r, opts.interval * 1000));
  }
}

const collect = (v: string, all: string[]) => [...all, v];

/**
 * False for a serial device with no UART behind it: the 8250 driver creates ttyS0..3
 * whether or not a port is there (type 0 in sysfs means none). Said on stderr.
 */
function usableTerminal(path: string): boolean {
  const name = basename(path);
  if (!/^ttyS\d+$/.test(name)) return true;
  const type = (() => {
    try {
      return readFileSync(`/sys/class/tty/${name}/type`, "utf8").trim();
    } catch {
      return null;
    }
  })();
  if (type !== "0") return true;
  process.stderr.write(`qx-console: no serial port behind ${path}: no DCUI there\n`);
  return false;
}

const program = new Command("qx-console")
  .description("Quantix-OS console (DCUI) on tty1 and the serial console; talks to qx-node's unix socket only")
  .option("--banner", "show only the status banner (no keys)")
  .option("--once", "with --banner: print the banner once to stdout and exit")
  .option("--tty <path>", "run on this terminal device (e.g. /dev/tty1) instead of stdin/stdout; repeat it for more (one process serves all)", collect, [])
  .option("--interval <seconds>", "refresh period", range(1, 3600, "seconds"), 5)
  .option("--socket <path>", "qx-node's unix socket", DEFAULT_SOCKET)
  .option("--shell-minutes <n>", "time limit of the emergency shell", range(1, 240, "minutes"), 15)
  .option("--shell <command>", "the emergency shell's command line", "setsid -c /bin/sh -l")
  .action(async (opts: Options) => {
    if (opts.banner) {
      for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => process.exit(0));
      return banner(opts);
    }
    const ttys = opts.tty.filter(usableTerminal);
    if (opts.tty.length > 0 && ttys.length === 0) throw new InvalidArgumentError(`none of ${opts.tty.join(", ")} is a usable terminal`);
    if (ttys.length === 0 && !process.stdin.isTTY) throw new InvalidArgumentError("the DCUI needs a terminal: use --tty DEVICE, or --banner");
    const { tty: _, ...rest } = opts;
    runDcui({ ...rest, ttys, shell: opts.shell.split(/\s+/).filter(Boolean) });
  });

conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-console: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
