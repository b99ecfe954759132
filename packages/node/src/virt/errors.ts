/**
 * @module virt/errors
 * How VM, storage and network operations fail, one class per kind. Each is an
 * {@link HttpError} carrying the status the API answers with, and its message says
 * what to do about it.
 */
import { HttpError } from "../api/http-errors.ts";

/** No VM, volume or network of that name (404). */
export class VirtNotFoundError extends HttpError {
  override name = "VirtNotFoundError";
  constructor(
    readonly kind: "vm" | "volume" | "network" | "bridge",
    readonly object: string,
    hint?: string,
  ) {
    super(404, "NOT_FOUND", `no ${kind === "vm" ? "VM" : kind} named ${object}${hint ? `: ${hint}` : ""}`);
  }
}

/** The name is taken (409). */
export class VirtExistsError extends HttpError {
  override name = "VirtExistsError";
  constructor(
    readonly kind: "vm" | "volume" | "network" | "bridge",
    readonly object: string,
  ) {
    super(409, "ALREADY_EXISTS", `a ${kind === "vm" ? "VM" : kind} named ${object} already exists: pick another name or delete it first`);
  }
}

/** The object is in a state that forbids the operation, e.g. deleting a running VM (409). */
export class VirtStateError extends HttpError {
  override name = "VirtStateError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(409, "INVALID_STATE", message, options);
  }
}

/** A request that passed the schema but cannot be honoured on this node, e.g. more memory than the host has (400). */
export class VirtRequestError extends HttpError {
  override name = "VirtRequestError";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(400, "BAD_REQUEST", `${field}: ${message}`);
  }
}

/** libvirtd or Open vSwitch does not answer (503). */
export class VirtUnavailableError extends HttpError {
  override name = "VirtUnavailableError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(503, "UNAVAILABLE", message, options);
  }
}

/** libvirt or Open vSwitch refused an operation for another reason; the message is theirs (502). */
export class VirtCommandError extends HttpError {
  override name = "VirtCommandError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(502, "HYPERVISOR_ERROR", message, options);
  }
}

/** The storage pool cannot take the request: no room, not mounted, too large (507 for space, else 409). */
export class StorageError extends HttpError {
  override name = "StorageError";
  constructor(status: 409 | 413 | 507, message: string) {
    super(status, status === 507 ? "INSUFFICIENT_STORAGE" : status === 413 ? "TOO_LARGE" : "STORAGE_CONFLICT", message);
  }
}
