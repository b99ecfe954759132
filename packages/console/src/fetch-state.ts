/**
 * @module fetch-state
 * Asks qx-node, over its unix socket only, for what the banner shows: the health
 * document and the console summary. Never throws: an unreachable daemon is a state
 * the banner displays.
 */
import { getLocal } from "@quantix/node/client";
import type { HealthDocument } from "@quantix/node/services/health";
import type { ConsoleSummary } from "@quantix/node/services/summary";
import type { BannerInput } from "./banner.ts";

/** Fetches both documents in parallel (each with `timeoutMs`). */
export async function fetchBannerInput(socketPath: string, timeoutMs = 4000, now = () => new Date()): Promise<BannerInput> {
  try {
    const [health, summary] = await Promise.all([
      getLocal<HealthDocument>(socketPath, "/api/v1/health", timeoutMs),
      getLocal<ConsoleSummary>(socketPath, "/api/v1/console/summary", timeoutMs),
    ]);
    if (summary.status !== 200) throw new Error(`console summary: HTTP ${summary.status}`);
    return { health: health.body, summary: summary.body, now: now() };
  } catch (e) {
    return { health: null, summary: null, error: e instanceof Error ? e.message : String(e), now: now() };
  }
}
