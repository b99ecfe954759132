/**
 * @module errors
 * Typed errors of qx-update. Each failure kind is its own class; the CLI maps the
 * class to an exit code ({@link EXIT}) and prints the message on one line.
 */
import { QxError } from "@quantix/core";

/** Why an image was refused before anything was touched. */
export type RejectReason =
  | "missing"
  | "empty"
  | "checksum"
  | "unsigned"
  | "signature"
  | "not-squashfs"
  | "truncated"
  | "no-kernel"
  | "no-version"
  | "arch"
  | "same-version"
  | "downgrade"
  | "too-large";

/** The image failed a pre-write check; no slot and no boot state were touched. */
export class ImageRejectedError extends QxError {
  override name = "ImageRejectedError";
  constructor(
    readonly reason: RejectReason,
    readonly image: string,
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("IMAGE_REJECTED", `${image}: ${message}`, options);
  }
}

/** The ESP could not be found, mounted or unmounted. */
export class EspError extends QxError {
  override name = "EspError";
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super("ESP", message, options);
  }
}

/** This system is not a Quantix-OS installed node (no qx.slot=, live media, ...). */
export class NotInstalledError extends QxError {
  override name = "NotInstalledError";
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super("NOT_INSTALLED", message, options);
  }
}

/** Downloading an image failed. */
export class DownloadError extends QxError {
  override name = "DownloadError";
  constructor(
    readonly url: string,
    message: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("DOWNLOAD", `${url}: ${message}`, options);
  }
}

/** The trial boot did not pass its health gate; the slot was given up. */
export class HealthGateError extends QxError {
  override name = "HealthGateError";
  constructor(
    readonly failing: readonly string[],
    message: string,
  ) {
    super("HEALTH_GATE", message);
  }
}
