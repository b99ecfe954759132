/**
 * @module api/http-errors
 * One error class per way a request can fail, each carrying its HTTP status. Route
 * handlers and services throw them; the server's error handler turns them into
 * `{ error, message, field? }` answers. Anything else is a 500 with a generic message
 * (the details go to the log, not to the client).
 *
 * @example
 * ```ts
 * throw new ConflictError("a network change is waiting for confirmation");
 * ```
 */
import { QxError } from "@quantix/core";

/** Base class: `status` is the HTTP status the client sees. */
export class HttpError extends QxError {
  override name = "HttpError";
  constructor(
    readonly status: number,
    code: string,
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super(code, message, options);
  }
}

/** 400: the request does not match its schema; `field` is the path, e.g. `body.management.address`. */
export class ValidationError extends HttpError {
  override name = "ValidationError";
  constructor(
    readonly field: string | null,
    message: string,
    readonly issues: readonly { readonly field: string; readonly message: string }[] = [],
  ) {
    super(400, "BAD_REQUEST", field ? `${field}: ${message}` : message);
  }
}

/** 401: no credential, or one that is not (or no longer) valid. */
export class UnauthorizedError extends HttpError {
  override name = "UnauthorizedError";
  constructor(message = "authentication required: log in or send an API token (Authorization: Bearer ...)") {
    super(401, "UNAUTHORIZED", message);
  }
}

/** 403: the credential is valid but its scope is not enough. */
export class ForbiddenError extends HttpError {
  override name = "ForbiddenError";
  constructor(
    readonly needed: string,
    readonly has: string,
  ) {
    super(403, "FORBIDDEN", `this needs scope ${needed}; the credential has scope ${has}`);
  }
}

/** 404: the named thing does not exist. */
export class NotFoundError extends HttpError {
  override name = "NotFoundError";
  constructor(message: string) {
    super(404, "NOT_FOUND", message);
  }
}

/** 409: the request is valid but the node's state does not allow it now. */
export class ConflictError extends HttpError {
  override name = "ConflictError";
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super(409, "CONFLICT", message, options);
  }
}

/** 429: too many attempts; `retryAfterSeconds` goes into the Retry-After header. */
export class RateLimitError extends HttpError {
  override name = "RateLimitError";
  constructor(readonly retryAfterSeconds: number) {
    super(429, "RATE_LIMITED", `too many attempts; try again in ${retryAfterSeconds} s`);
  }
}

/** 501: the feature exists in the API but its backend is not part of this build. */
export class NotImplementedError extends HttpError {
  override name = "NotImplementedError";
  constructor(message: string) {
    super(501, "NOT_IMPLEMENTED", message);
  }
}

/** 502: a system tool the request depends on failed (rc-service, ip...). */
export class SystemCommandError extends HttpError {
  override name = "SystemCommandError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(502, "SYSTEM_COMMAND_FAILED", message, options);
  }
}
