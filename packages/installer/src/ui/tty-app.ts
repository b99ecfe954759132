/**
 * @module ui/tty-app
 * Runs the interactive installer on a terminal: raw keys (the DCUI's parser), the
 * model, the DCUI's row-diffing renderer, and the effects (install, rescan, reboot,
 * shell). The terminal is a device opened here without becoming the controlling
 * terminal (tty1 on the live ISO), or stdin/stdout (tests in tmux, a serial login).
 *
 * @example
 * ```ts
 * await runInstallerUi({ tty: "/dev/tty1", imagePath: "/run/qx/system.squashfs", ... });
 * ```
 */
import { spawn } from "node:child_process";
import { constants, openSync } from "node:fs";
import { ReadStream, WriteStream } from "node:tty";
import { parseKeys } from "@quantix/console/keys";
import { terminal } from "@quantix/console/render";
import type { AnswerFile } from "../answers/answer-file.ts";
import type { DiskEnv, DiskInfo } from "../engine/disks.ts";
import type { DataFormat } from "../engine/phases.ts";
import { afterInstall, installToDisk, summary } from "../live/session.ts";
import { type Effect, initialState, type Mode, onInstallDone, onInstallEvent, onInstallFailed, onKey, type State, withDisks } from "./model.ts";
import { view } from "./view.ts";

export interface UiOptions {
  readonly tty?: string;
  readonly imagePath: string;
  readonly imageBytes: number;
  readonly version: string;
  readonly listDisks: () => Promise<DiskInfo[]>;
  readonly answers: Partial<AnswerFile> | null;
  readonly preselect?: string | null;
  readonly mode?: Mode;
  readonly data?: DataFormat;
  readonly message?: string;
  readonly diskEnv?: DiskEnv;
  /** Runs effects that leave the UI (reboot, power off); default: the real commands. */
  readonly power?: (what: "reboot" | "poweroff") => Promise<void>;
  readonly log?: (line: string) => void;
}

/** Starts the UI; resolves when the process should end (after a reboot/poweroff request). */
export async function runInstallerUi(o: UiOptions): Promise<void> {
  const fd = o.tty ? openSync(o.tty, constants.O_RDWR | constants.O_NOCTTY) : 0;
  const input = o.tty ? new ReadStream(fd) : (process.stdin as ReadStream);
  const output = o.tty ? new WriteStream(fd) : (process.stdout as WriteStream);
  const term = terminal(output);
  const log = o.log ?? (() => undefined);
  let state: State = initialState({
    disks: await o.listDisks(),
    imageBytes: o.imageBytes,
    version: o.version,
    ...(o.mode ? { mode: o.mode } : {}),
    ...(o.data ? { data: o.data } : {}),
    ...(o.preselect !== undefined ? { preselect: o.preselect } : {}),
    ...(o.message ? { message: o.message } : {}),
  });
  let closed = false;
  const draw = (): void => {
    if (!closed) term.draw(view(state));
  };
  const power = o.power ?? ((what) => afterInstall(what));

  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    finish = r;
  });

  const runEffect = async (e: Effect): Promise<void> => {
    switch (e.type) {
      case "rescan":
        state = withDisks(state, await o.listDisks());
        return;
      case "install": {
        log(`installing on ${e.disk.device} (${e.mode}, data ${e.data})`);
        try {
          const r = await installToDisk({
            disk: e.disk.device,
            mode: e.mode,
            data: e.data,
            imagePath: o.imagePath,
            answers: o.answers,
            log: (ev) => {
              state = onInstallEvent(state, ev);
              draw();
            },
            ...(o.diskEnv ? { diskEnv: o.diskEnv } : {}),
          });
          log(summary(r, e.disk.device));
          state = onInstallDone(state, r.totalMs);
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          log(`install failed: ${msg}`);
          state = onInstallFailed(state, msg);
        }
        return;
      }
      case "reboot":
      case "poweroff":
        closed = true; // the screen is the shutdown's now
        term.release();
        await power(e.type);
        finish();
        return;
      case "shell": {
        term.release();
        input.setRawMode(false);
        input.pause();
        await new Promise<void>((res) => {
          const child = spawn("setsid", ["-c", "/bin/sh", "-l"], { stdio: [fd, fd, fd] });
          child.on("exit", () => res());
          child.on("error", () => res());
        });
        input.setRawMode(true);
        input.resume();
        term.reset();
        return;
      }
    }
  };

  let rest = "";
  let busy = Promise.resolve();
  input.setRawMode(true);
  input.setEncoding("utf8");
  input.on("data", (chunk: string) => {
    const parsed = parseKeys(rest + chunk, true);
    rest = parsed.rest;
    for (const key of parsed.keys) {
      const step = onKey(state, key);
      state = step.state;
      draw();
      if (step.effect) {
        const eff = step.effect;
        busy = busy.then(() => runEffect(eff)).then(draw, (err) => log(`effect failed: ${String(err)}`));
      }
    }
  });
  input.resume();
  draw();
  await finished;
  input.pause();
}
