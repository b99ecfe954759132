/**
 * @module @quantix/update
 * qx-update as a library: verify and apply signed system images to the inactive
 * slot, the boot-time health gate, status, mark-good and rollback.
 */
export * from "./boot-check.ts";
export * from "./checksum.ts";
export * from "./context.ts";
export * from "./devices.ts";
export * from "./download.ts";
export * from "./errors.ts";
export * from "./esp.ts";
export * from "./history.ts";
export * from "./install.ts";
export * from "./manage.ts";
export * from "./signature.ts";
export * from "./slot-targets.ts";
export * from "./verify.ts";
export * from "./watchdog.ts";
