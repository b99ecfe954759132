/**
 * @module manage
 * The small verbs over the boot state: status (with why the last rollback
 * happened), mark-good and manual rollback. Each reads the two-copy GRUB env, applies
 * one transition from core's slot model, writes it back, and records history.
 */
import {
  type BootEnvRead,
  markGood,
  nextBoot,
  REASON_BOOT_INCOMPLETE,
  REASON_KERNEL_UNLOADABLE,
  REASON_INSTALLING,
  REASON_MANUAL_ROLLBACK,
  readBootEnv,
  rollback,
  SLOTS,
  type SlotInfo,
  type SlotName,
} from "@quantix/core";
import type { UpdateContext } from "./context.ts";
import { NotInstalledError } from "./errors.ts";
import { appendHistory, type HistoryEvent, lastRollback, readHistory } from "./history.ts";
import { updateBootEnv } from "./install.ts";

export const HEALTH_REASON_PREFIX = "health:";

/** A slot's reason code in words, for people. */
export function explainReason(reason: string | null | undefined): string | null {
  if (!reason) return null;
  if (reason === REASON_BOOT_INCOMPLETE) return "boot did not complete (tries exhausted: kernel panic, missing or broken system image, hang)";
  if (reason === REASON_KERNEL_UNLOADABLE) return "GRUB could not load the slot's kernel or initramfs (empty or damaged slot)";
  if (reason === REASON_INSTALLING) return "an install was interrupted (slot incomplete)";
  if (reason === REASON_MANUAL_ROLLBACK) return "rolled back by hand";
  if (reason.startsWith(HEALTH_REASON_PREFIX)) return `health check failed: ${reason.slice(HEALTH_REASON_PREFIX.length).split(",").join(", ")}`;
  return reason;
}

export interface SlotStatusView extends SlotInfo {
  readonly slot: SlotName;
  readonly booted: boolean;
  readonly primary: boolean;
  readonly why: string | null;
}

export interface UpdateStatus {
  readonly booted: SlotName | null;
  readonly trying: boolean;
  readonly runningVersion: string | null;
  readonly primary: SlotName;
  readonly nextBoot: SlotName;
  readonly seq: number;
  readonly env: { source: BootEnvRead["source"]; problems: readonly string[] };
  readonly slots: readonly SlotStatusView[];
  readonly lastUpdate: HistoryEvent | null;
  readonly lastRollback: (HistoryEvent & { why: string | null }) | null;
}

export async function readStatus(ctx: UpdateContext): Promise<UpdateStatus> {
  const running = await ctx.running();
  const env = await ctx.esp.use((root) => readBootEnv(root));
  const history = await readHistory(ctx.historyPath);
  const st = env.state;
  let rb: HistoryEvent | null = lastRollback(history);
  if (!rb) {
    // Not recorded yet (boot-check runs later in the boot): take it from the env.
    const s = SLOTS.find((x) => st.slots[x].status === "bad" && st.slots[x].reason && st.slots[x].reason !== REASON_INSTALLING);
    if (s) rb = { at: "", kind: "rollback", slot: s, version: st.slots[s].version, reason: st.slots[s].reason };
  }
  const lastUpdate = [...history].reverse().find((e) => e.kind === "installed") ?? null;
  return {
    booted: running.slot,
    trying: running.trying,
    runningVersion: running.version,
    primary: st.primary,
    nextBoot: nextBoot(st),
    seq: st.seq,
    env: { source: env.source, problems: env.problems },
    slots: SLOTS.map((s) => ({ slot: s, ...st.slots[s], booted: running.slot === s, primary: st.primary === s, why: explainReason(st.slots[s].reason) })),
    lastUpdate,
    lastRollback: rb ? { ...rb, why: explainReason(rb.reason) } : null,
  };
}

/** Human-readable status lines. */
export function formatStatus(s: UpdateStatus): string {
  const lines: string[] = [];
  lines.push(`running: slot ${s.booted ?? "-"} version ${s.runningVersion ?? "?"}${s.trying ? " (on trial)" : ""}`);
  lines.push(`next boot: slot ${s.nextBoot} (primary ${s.primary}, boot env seq ${s.seq} from the ${s.env.source} copy)`);
  for (const v of s.slots) {
    const flags = [v.booted ? "booted" : "", v.primary ? "primary" : ""].filter(Boolean).join(", ");
    const tries = v.status === "trying" ? `, ${v.tries} tries left` : "";
    lines.push(`slot ${v.slot}: ${v.status}${tries}  version ${v.version ?? "-"}${flags ? `  [${flags}]` : ""}${v.why ? `  (${v.why})` : ""}`);
  }
  if (s.lastUpdate) lines.push(`last update: ${s.lastUpdate.version} into slot ${s.lastUpdate.slot} at ${s.lastUpdate.at}`);
  if (s.lastRollback) {
    lines.push(`last rollback: slot ${s.lastRollback.slot} (${s.lastRollback.version ?? "?"})${s.lastRollback.at ? ` at ${s.lastRollback.at}` : ""}: ${s.lastRollback.why ?? s.lastRollback.reason}`);
  }
  for (const p of s.env.problems) lines.push(`boot env problem: ${p}`);
  return lines.join("\n");
}

async function bootedSlot(ctx: UpdateContext): Promise<{ slot: SlotName; version: string | null }> {
  const r = await ctx.running();
  if (!r.slot) throw new NotInstalledError("not booted from a Quantix-OS slot (no qx.slot= on the kernel command line)");
  return { slot: r.slot, version: r.version };
}

/** Marks the booted slot good (the health gate does this on a trial boot). */
export async function markGoodNow(ctx: UpdateContext, reason = "mark-good"): Promise<{ slot: SlotName; changed: boolean }> {
  const b = await bootedSlot(ctx);
  let changed = false;
  await updateBootEnv(ctx, (env) => {
    const state = markGood(env.state, b.slot);
    changed = state !== env.state;
    return { ...env, state };
  });
  if (changed) await appendHistory(ctx.historyPath, { kind: "good", slot: b.slot, version: b.version, reason });
  return { slot: b.slot, changed };
}

/** Makes the other (good) slot the next boot; takes effect at the next reboot. */
export async function rollbackNow(ctx: UpdateContext): Promise<{ from: SlotName; to: SlotName; version: string | null }> {
  const b = await bootedSlot(ctx);
  const env = await updateBootEnv(ctx, (e) => ({ ...e, state: rollback(e.state, b.slot) }));
  await appendHistory(ctx.historyPath, { kind: "manual-rollback", slot: b.slot, version: b.version, reason: REASON_MANUAL_ROLLBACK });
  return { from: b.slot, to: env.state.primary, version: env.state.slots[env.state.primary].version };
}
