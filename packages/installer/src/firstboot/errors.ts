/**
 * @module firstboot/errors
 * The first-boot failure kind: a phase cannot finish without risking the node's
 * identity or configuration. The message says what is wrong and what to do.
 */
import { QxError } from "@quantix/core";

export class FirstbootError extends QxError {
  override name = "FirstbootError";
  constructor(
    message: string,
    readonly phase: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("FIRSTBOOT", message, options);
  }
}
