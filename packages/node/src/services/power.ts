/**
 * @module services/power
 * Reboot and shutdown. The command runs a moment after the API has answered, through
 * the context's runner (OpenRC's `reboot` / `poweroff`), so the client sees the 202.
 *
 * @example
 * ```ts
 * await power(ctx).request("reboot"); // { action: "reboot", at: "..." }
 * ```
 */
import type { NodeContext } from "../context.ts";

export type PowerAction = "reboot" | "shutdown";
const COMMAND: Record<PowerAction, string> = { reboot: "reboot", shutdown: "poweroff" };

export interface PowerControl {
  request(action: PowerAction): Promise<{ action: PowerAction; at: string }>;
}

export function power(ctx: NodeContext, options: { delayMs?: number; log?: (msg: string) => void } = {}): PowerControl {
  return {
    async request(action) {
      const at = new Date(ctx.now() + (options.delayMs ?? 1000)).toISOString();
      setTimeout(() => {
        ctx.runner(COMMAND[action], [], { timeoutMs: 30_000 }).catch((e: unknown) => {
          options.log?.(`${COMMAND[action]} failed: ${e instanceof Error ? e.message : String(e)}`);
        });
      }, options.delayMs ?? 1000);
      return { action, at };
    },
  };
}
