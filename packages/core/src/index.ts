/**
 * @module @quantix/core
 * The library every Quantix-OS tool imports: disk layout, A/B slot model, GRUB
 * environment and configuration, the exec helper and typed errors.
 */
export * from "./atomic-write.ts";
export * from "./mutex.ts";
export * from "./boot/boot-env.ts";
export * from "./boot/grub-cfg.ts";
export * from "./boot/grub-env.ts";
export * from "./boot/slots.ts";
export * from "./config/errors-format.ts";
export * from "./config/files.ts";
export * from "./config/schema.ts";
export * from "./config/store.ts";
export * from "./errors.ts";
export * from "./exec.ts";
export * from "./layout.ts";
export * from "./slot-writer.ts";
export * from "./boot/bios-boot.ts";
export * from "./system-image.ts";
export * from "./tls-policy.ts";
