/**
 * @module exec
 * The one helper through which every subprocess runs. It never uses a shell, collects
 * stdout/stderr, and throws {@link ExecError} with command, exit code and stderr.
 *
 * @example
 * ```ts
 * const { stdout } = await run("sgdisk", ["--print", "disk.img"]);
 * ```
 */
import { spawn } from "node:child_process";
import { ExecError } from "./errors.ts";

export interface RunOptions {
  /** Data written to the child's stdin. */
  input?: string | Buffer;
  /** Working directory. */
  cwd?: string;
  /** Extra environment variables (merged over process.env). */
  env?: Record<string, string | undefined>;
  /** Kill the child after this many milliseconds (SIGTERM, then SIGKILL after 2 s). */
  timeoutMs?: number;
  /** Do not throw on a non-zero exit; the caller inspects `exitCode`. */
  allowFailure?: boolean;
  /** Abort signal. */
  signal?: AbortSignal;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs `command` with `args` (no shell) and returns its output, or throws ExecError. */
export async function run(command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> {
  const r = await runBinary(command, args, options);
  return { ...r, stdout: r.stdout.toString("utf8") };
}

export interface BinaryRunResult extends Omit<RunResult, "stdout"> {
  stdout: Buffer;
}

/** As {@link run}, but stdout is returned as bytes (e.g. a file extracted with `unsquashfs -cat`). */
export function runBinary(command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<BinaryRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ? { ...process.env, ...options.env } : process.env,
      stdio: ["pipe", "pipe", "pipe"],
      signal: options.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        child.kill("SIGTERM");
        killTimer = setTimeout(() => child.kill("SIGKILL"), 2000);
      }, options.timeoutMs);
    }
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    child.stdin.on("error", () => {
      /* the child may exit before reading its input; the exit status tells */
    });
    child.on("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      const code = e.code === "ENOENT" ? 127 : e.code === "EACCES" ? 126 : null;
      reject(new ExecError(command, args, code, null, "", e.message, { cause: e }));
    });
    child.on("close", (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      const result: BinaryRunResult = {
        stdout: Buffer.concat(out),
        stderr: Buffer.concat(err).toString("utf8"),
        exitCode,
        signal,
      };
      if ((exitCode === 0 && !signal) || options.allowFailure) resolve(result);
      else reject(new ExecError(command, args, exitCode, signal, result.stdout.toString("utf8"), result.stderr));
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

/** True when `command` can be found and started (it is run with `--version`). */
export async function hasCommand(command: string): Promise<boolean> {
  try {
    await run(command, ["--version"], { allowFailure: true, timeoutMs: 5000 });
    return true;
  } catch {
    return false;
  }
}
