/**
 * @module dcui
 * Runs the DCUI on a terminal: raw keyboard input, the row-diffing renderer, qx-node's
 * socket, and the emergency shell runner. The terminal is either stdin/stdout (tmux,
 * a getty-less serial login) or a device opened here (`/dev/tty1`, `/dev/ttyS0`)
 * without making it the controlling terminal, so no login prompt is involved and
 * Ctrl-C on the keyboard cannot kill the console.
 */
import { spawn } from "node:child_process";
import { constants, openSync } from "node:fs";
import { ReadStream, WriteStream } from "node:tty";
import { App, type ShellRunner } from "./app.ts";
import { nodeApi } from "./node-api.ts";
import { terminal } from "./render.ts";
import { allScreens } from "./screens/index.ts";

export interface DcuiOptions {
  /** Terminal device; stdin/stdout when absent. */
  readonly tty?: string;
  readonly socket: string;
  readonly interval: number;
  readonly shellMinutes: number;
  /** The emergency shell's command line. */
  readonly shell: readonly string[];
}

/** Spawns `argv` on the terminal's fd; kills it (its whole session) after the limit. */
export function shellRunner(argv: readonly string[], fd: number, input: ReadStream): ShellRunner {
  return (limitSeconds) =>
    new Promise((resolve) => {
      input.setRawMode(false);
      input.pause();
      let timedOut = false;
      const child = spawn(argv[0]!, argv.slice(1), { stdio: [fd, fd, fd], env: { ...process.env, QX_EMERGENCY_SHELL: "1" } });
      const kill = (sig: NodeJS.Signals): void => {
        try {
          if (child.pid) process.kill(-child.pid, sig);
        } catch {
          child.kill(sig);
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        kill("SIGHUP");
        setTimeout(() => kill("SIGKILL"), 2000).unref();
      }, limitSeconds * 1000);
      const done = (code: number | null): void => {
        clearTimeout(timer);
        input.setRawMode(true);
        input.resume();
        resolve({ code, timedOut });
      };
      child.on("exit", (code) => done(code));
      child.on("error", () => done(127));
    });
}

/** One DCUI on one terminal (stdin/stdout when `tty` is absent). */
function startOne(o: DcuiOptions, tty: string | undefined): { app: App; release: () => void } {
  const fd = tty ? openSync(tty, constants.O_RDWR | constants.O_NOCTTY) : 0;
  const input = tty ? new ReadStream(fd) : (process.stdin as ReadStream);
  const output = tty ? new WriteStream(fd) : (process.stdout as WriteStream);
  const term = terminal(output);
  const app = new App({
    api: nodeApi(o.socket),
    term,
    interval: o.interval,
    shellMinutes: o.shellMinutes,
    runShell: shellRunner(o.shell, fd, input),
    log: (m) => process.stderr.write(`${tty ? `${tty}: ` : ""}${m}\n`),
    screens: allScreens,
  });
  input.setRawMode(true);
  input.setEncoding("utf8");
  input.on("data", (chunk: string) => app.input(chunk));
  // Keeps the process alive: the refresh timer is unref'd so tests can end an App.
  input.resume();
  app.log(`qx-console DCUI started on ${tty ?? "stdin/stdout"}`);
  app.start();
  return {
    app,
    release: () => {
      app.stop();
      term.release();
      input.setRawMode(false);
    },
  };
}

/**
 * Starts a DCUI on each of `ttys` in this one process (tty1 and the serial console
 * share it: one Node.js start and one heap instead of two), or on stdin/stdout when
 * the list is empty. Resolves never (the process ends on a signal).
 */
export function runDcui(o: DcuiOptions & { readonly ttys?: readonly string[] }): App[] {
  const ttys = o.ttys && o.ttys.length > 0 ? o.ttys : o.tty ? [o.tty] : [undefined];
  const running = ttys.map((t) => startOne(o, t));
  const quit = (): void => {
    for (const r of running) r.release();
    process.exit(0);
  };
  process.on("SIGTERM", quit);
  process.on("SIGINT", quit);
  process.on("SIGHUP", quit);
  return running.map((r) => r.app);
}
