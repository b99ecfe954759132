/**
 * @module services/slot
 * Which system slot is running, from the kernel command line (`qx.slot=`,
 * `qx.trying=1`, `qx.live=1`) and the initramfs's record in
 * `/run/quantix/initramfs.status` (QX_SLOT, QX_TRYING, QX_CONFIG=mounted|missing|error:...).
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { isSlotName, type SlotName } from "@quantix/core";
import { type Check, oneLine } from "./check.ts";
import { cachePerKey, FileCache } from "./file-cache.ts";
import { readShellVars } from "./shell-vars.ts";

export const INITRAMFS_STATUS = "run/quantix/initramfs.status";

export interface BootInfo {
  readonly slot: SlotName | null;
  readonly trying: boolean;
  readonly live: boolean;
  /** QX_CONFIG from the initramfs, or null when it left no status file. */
  readonly config: string | null;
  /** QX_SLOT from the initramfs, or null. */
  readonly initramfsSlot: string | null;
}

/** The `qx.*` options of a kernel command line. */
export function parseCmdline(text: string): Map<string, string> {
  const opts = new Map<string, string>();
  for (const word of text.trim().split(/\s+/)) {
    if (!word.startsWith("qx.")) continue;
    const eq = word.indexOf("=");
    opts.set(eq < 0 ? word : word.slice(0, eq), eq < 0 ? "" : word.slice(eq + 1));
  }
  return opts;
}

async function loadBootInfo(root: string): Promise<BootInfo> {
  const cmdline = parseCmdline(await fs.readFile(join(root, "proc/cmdline"), "utf8"));
  const status = await readShellVars(join(root, INITRAMFS_STATUS));
  const slot = cmdline.get("qx.slot");
  return {
    slot: isSlotName(slot) ? slot : null,
    trying: cmdline.get("qx.trying") === "1" || status?.get("QX_TRYING") === "1",
    live: cmdline.get("qx.live") === "1" || status?.get("QX_LIVE") === "1",
    config: status?.get("QX_CONFIG") ?? null,
    initramfsSlot: status?.get("QX_SLOT") || null,
  };
}

const bootInfo = cachePerKey((root) => new FileCache([join(root, "proc/cmdline"), join(root, INITRAMFS_STATUS)], () => loadBootInfo(root)));

/**
 * Reads what the kernel and the initramfs say about this boot: both are written once
 * per boot, so they are read again only when a file's status changes (services/file-cache).
 */
export function readBootInfo(root: string): Promise<BootInfo> {
  return bootInfo(root);
}

/** Checks that the node booted a known slot and the initramfs mounted /quantix. */
export const checkSlot: Check = async (ctx) => {
  let b: BootInfo;
  try {
    b = await readBootInfo(ctx.root);
  } catch (e) {
    return { ok: false, detail: `cannot read the boot state: ${oneLine(e)}` };
  }
  const data = { slot: b.slot, trying: b.trying, live: b.live, config: b.config };
  if (b.live) return { ok: true, detail: "live system (installer media)", data };
  if (!b.slot) return { ok: false, detail: "no qx.slot=A|B on the kernel command line (not booted by the Quantix-OS GRUB)", data };
  if (b.initramfsSlot && b.initramfsSlot !== b.slot) {
    return { ok: false, detail: `kernel says slot ${b.slot}, initramfs says ${b.initramfsSlot}`, data };
  }
  if (b.config !== null && b.config !== "mounted") {
    const why = b.config.startsWith("error:") ? b.config.slice("error:".length) : b.config;
    return { ok: false, detail: `slot ${b.slot}: the config partition is not mounted (${why}); /quantix is in RAM`, data };
  }
  return { ok: true, detail: `slot ${b.slot}${b.trying ? " (on trial, not yet marked good)" : ""}`, data };
};
