/**
 * @module boot-check
 * Runs on a trial boot (OpenRC service `quantix-update`, after quantix-node; on any
 * other boot qx-boot runs steps 1 and 2 through {@link reconcileBootEnv}):
 * 1. repairs a stale or torn copy of the GRUB environment;
 * 2. records in the history a rollback GRUB did on its own (tries exhausted:
 *    `boot-incomplete`), so `status` can say why;
 * 3. on a trial boot (`qx.trying=1`), the health gate: poll qx-node's health until
 *    every component is healthy → mark good and disarm the watchdog; past the
 *    deadline (node.yaml `update.health_timeout`) → mark the slot bad with
 *    `health:<failing components>` and reboot into the other slot.
 *
 * @example
 * ```ts
 * const r = await bootCheck({ ctx: nodeUpdateContext(), health: nodeHealth(), watchdog: deviceWatchdog(), reboot });
 * r.outcome; // "marked-good"
 * ```
 */
import { markBad, markGood, readBootEnv, type SlotName, SlotStateError, SLOTS, writeBootEnv } from "@quantix/core";
import { DEFAULT_SOCKET, getLocal } from "@quantix/node/client";
import type { UpdateContext } from "./context.ts";
import { appendHistory, readHistory } from "./history.ts";
import { updateBootEnv } from "./install.ts";
import { HEALTH_REASON_PREFIX } from "./manage.ts";
import type { Watchdog } from "./watchdog.ts";

export interface HealthSample {
  readonly healthy: boolean;
  /** Failing component names (or `qx-node` when it does not answer). */
  readonly failing: readonly string[];
}

export type HealthProbe = () => Promise<HealthSample>;

/** qx-node's `GET /api/v1/health` over its unix socket. */
export function nodeHealth(socketPath = DEFAULT_SOCKET): HealthProbe {
  return async () => {
    try {
      const r = await getLocal<{ status?: string; failing?: string[] }>(socketPath, "/api/v1/health", 15_000);
      const healthy = r.status === 200 && r.body.status === "healthy";
      return { healthy, failing: healthy ? [] : (r.body.failing ?? [`http-${r.status}`]) };
    } catch {
      return { healthy: false, failing: ["qx-node"] };
    }
  };
}

export interface BootCheckDeps {
  readonly ctx: UpdateContext;
  readonly health: HealthProbe;
  readonly watchdog: Watchdog;
  readonly reboot: () => Promise<void>;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly pollMs?: number;
}

export type BootCheckOutcome = "not-a-slot" | "not-trying" | "already-good" | "marked-good" | "rolled-back" | "kept";

export interface BootCheckResult {
  readonly outcome: BootCheckOutcome;
  readonly slot: SlotName | null;
  readonly seconds: number;
  readonly failing: readonly string[];
  readonly repaired: readonly string[];
}

/**
 * Steps 1 and 2 alone (every boot; qx-boot runs them on a boot that is not a trial,
 * where no gate process starts): repairs the env, records rollbacks GRUB made.
 * Null when not booted from a slot.
 */
export async function reconcileBootEnv(ctx: UpdateContext): Promise<{ slot: SlotName; trying: boolean; repaired: readonly string[] } | null> {
  const running = await ctx.running();
  if (!running.slot) return null;
  return { slot: running.slot, trying: running.trying, repaired: await reconcile(ctx, running.slot) };
}

/** Repairs the env and records rollbacks GRUB made; returns the problems repaired. */
async function reconcile(ctx: UpdateContext, booted: SlotName): Promise<readonly string[]> {
  const env = await ctx.esp.use(async (root) => {
    const e = await readBootEnv(root);
    if (e.problems.length > 0) await writeBootEnv(root, { state: e.state, settings: e.settings });
    return e;
  });
  if (env.problems.length > 0) {
    await appendHistory(ctx.historyPath, { kind: "env-repaired", slot: booted, version: null, reason: env.problems.join("; ") });
  }
  const history = await readHistory(ctx.historyPath);
  for (const s of SLOTS) {
    if (s === booted) continue;
    const info = env.state.slots[s];
    const last = [...history].reverse().find((e) => e.slot === s);
    // Installed (or on trial) but now bad, and nobody recorded why: GRUB gave it up.
    if (info.status === "bad" && info.reason && last?.kind === "installed") {
      await appendHistory(ctx.historyPath, { kind: "rollback", slot: s, version: last.version, reason: info.reason });
    }
  }
  return env.problems;
}

/** The boot-time check; see the module comment. */
export async function bootCheck(deps: BootCheckDeps): Promise<BootCheckResult> {
  const { ctx } = deps;
  const now = deps.now ?? (() => Date.now());
  const sleep = deps.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const t0 = now();
  const secs = () => Math.round((now() - t0) / 1000);
  const running = await ctx.running();
  if (!running.slot) return { outcome: "not-a-slot", slot: null, seconds: 0, failing: [], repaired: [] };
  const booted = running.slot;
  const repaired = await reconcile(ctx, booted);
  if (!running.trying) return { outcome: "not-trying", slot: booted, seconds: secs(), failing: [], repaired };

  const env = await ctx.esp.use((root) => readBootEnv(root));
  if (env.state.slots[booted].status === "good") {
    await deps.watchdog.disarm();
    return { outcome: "already-good", slot: booted, seconds: secs(), failing: [], repaired };
  }
  const settings = await ctx.settings();
  const deadline = t0 + settings.health_timeout * 1000;
  ctx.log(`boot-check: slot ${booted} (${running.version ?? "?"}) on trial; waiting up to ${settings.health_timeout} s for a healthy node`);
  let failing: readonly string[] = [];
  for (;;) {
    await deps.watchdog.keepalive();
    const h = await deps.health();
    if (h.healthy) {
      await updateBootEnv(ctx, (e) => ({ ...e, state: markGood(e.state, booted) }));
      await deps.watchdog.disarm();
      await appendHistory(ctx.historyPath, { kind: "good", slot: booted, version: running.version, reason: "health gate passed", seconds: secs() });
      ctx.log(`boot-check: healthy after ${secs()} s; slot ${booted} marked good, watchdog disarmed`);
      return { outcome: "marked-good", slot: booted, seconds: secs(), failing: [], repaired };
    }
    if (h.failing.join() !== failing.join()) ctx.log(`boot-check: not healthy yet: ${h.failing.join(", ")}`);
    failing = h.failing;
    if (now() >= deadline) break;
    await sleep(Math.min(deps.pollMs ?? 5000, Math.max(0, deadline - now())));
  }
  const reason = `${HEALTH_REASON_PREFIX}${failing.join(",") || "unknown"}`;
  try {
    await updateBootEnv(ctx, (e) => ({ ...e, state: markBad(e.state, booted, reason) }));
  } catch (e) {
    if (!(e instanceof SlotStateError)) throw e;
    // The other slot cannot boot: staying on this one is the only choice.
    ctx.log(`boot-check: health gate failed (${reason}) but ${e.message}; keeping slot ${booted}`);
    await deps.watchdog.disarm();
    return { outcome: "kept", slot: booted, seconds: secs(), failing, repaired };
  }
  await appendHistory(ctx.historyPath, { kind: "rollback", slot: booted, version: running.version, reason, seconds: secs() });
  ctx.log(`boot-check: not healthy within ${settings.health_timeout} s (${failing.join(", ")}); slot ${booted} marked bad, rebooting`);
  await deps.watchdog.release(); // still armed: a reboot that hangs ends in a reset
  await deps.reboot();
  return { outcome: "rolled-back", slot: booted, seconds: secs(), failing, repaired };
}
