/**
 * @module errors
 * Typed errors for Quantix-OS. Every error carries a message a user can act on:
 * what went wrong and what to do. Code switches on the class (or `code`), never on
 * the message text.
 *
 * @example
 * ```ts
 * try { await run("sgdisk", ["-p", dev]) }
 * catch (e) { if (e instanceof ExecError && e.exitCode === 127) ... }
 * ```
 */

/** Base class of every Quantix-OS error. `code` is stable; `hint` says what to do. */
export class QxError extends Error {
  override name = "QxError";
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options?: { hint?: string; cause?: unknown }) {
    super(options?.hint ? `${message} (${options.hint})` : message, { cause: options?.cause });
    this.code = code;
    this.hint = options?.hint;
  }
}

/** A subprocess failed: carries the command, its exit code or signal, and stderr. */
export class ExecError extends QxError {
  override name = "ExecError";
  constructor(
    readonly command: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("EXEC_FAILED", formatExecMessage(command, args, exitCode, signal, stderr), options);
  }
}

/** Turns common exit codes into words, as zx's formatExitMessage does. */
export function describeExit(exitCode: number | null, signal: NodeJS.Signals | null): string {
  if (signal) return `killed by ${signal}`;
  switch (exitCode) {
    case 126:
      return "exit 126: command found but not executable";
    case 127:
      return "exit 127: command not found";
    case 130:
      return "exit 130: interrupted";
    case 137:
      return "exit 137: killed (out of memory or SIGKILL)";
    default:
      return `exit ${exitCode}`;
  }
}

function formatExecMessage(
  command: string,
  args: readonly string[],
  exitCode: number | null,
  signal: NodeJS.Signals | null,
  stderr: string,
): string {
  const shown = [command, ...args].join(" ");
  const firstLines = stderr.trim().split("\n").slice(-3).join(" | ");
  return `${shown.length > 200 ? `${shown.slice(0, 200)}…` : shown}: ${describeExit(exitCode, signal)}${
    firstLines ? `: ${firstLines}` : ""
  }`;
}

/** A configuration file is missing, malformed or fails its schema. */
export class ConfigError extends QxError {
  override name = "ConfigError";
  constructor(
    readonly file: string,
    readonly fieldPath: string | null,
    readonly detail: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("CONFIG_INVALID", `${file}: ${fieldPath ? `${fieldPath}: ` : ""}${detail}`, options);
  }
}

/** A GRUB environment block is malformed, too large, or a key is invalid. */
export class GrubEnvError extends QxError {
  override name = "GrubEnvError";
  constructor(
    message: string,
    readonly file?: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("GRUBENV_INVALID", file ? `${file}: ${message}` : message, options);
  }
}

/** A slot transition was asked that the A/B model forbids. */
export class SlotStateError extends QxError {
  override name = "SlotStateError";
  constructor(
    message: string,
    readonly slot?: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("SLOT_STATE", message, options);
  }
}

/** The disk or image does not fit the layout. */
export class LayoutError extends QxError {
  override name = "LayoutError";
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super("LAYOUT", message, options);
  }
}
