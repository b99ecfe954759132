/**
 * @module errors
 * Typed errors of the control plane. Each carries the HTTP status the API answers with,
 * a stable `code`, and a message that says what went wrong and what to do.
 */
import { QxError } from "@quantix/core";

export class ControlError extends QxError {
  override name = "ControlError";
  constructor(
    readonly status: number,
    code: string,
    message: string,
    options?: { hint?: string; cause?: unknown; details?: Record<string, unknown> },
  ) {
    super(code, message, options);
    this.details = options?.details;
  }
  readonly details: Record<string, unknown> | undefined;
}

/** A CSR or certificate is unusable (400). */
export class PkiError extends ControlError {
  override name = "PkiError";
  constructor(code: string, message: string, options?: { hint?: string; cause?: unknown }) {
    super(400, code, message, options);
  }
}

/** A join token is malformed (400), unknown, revoked, expired or used up (401). */
export class TokenError extends ControlError {
  override name = "TokenError";
}

/** The caller is not allowed: no credentials (401) or the wrong role (403). */
export class AuthError extends ControlError {
  override name = "AuthError";
}

export class NotFoundError extends ControlError {
  override name = "NotFoundError";
  constructor(message: string, hint?: string) {
    super(404, "NOT_FOUND", message, { hint });
  }
}

export class ConflictError extends ControlError {
  override name = "ConflictError";
  constructor(code: string, message: string, options?: { hint?: string; details?: Record<string, unknown> }) {
    super(409, code, message, options);
  }
}

/** etcd cannot be reached or has no quorum (503): retry. */
export class UnavailableError extends ControlError {
  override name = "UnavailableError";
  constructor(message: string, cause?: unknown) {
    super(503, "STORE_UNAVAILABLE", message, { hint: "the control plane's etcd has no quorum or cannot be reached; retry in a few seconds", cause });
  }
}
