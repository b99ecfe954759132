/**
 * @module services/check
 * The contract every health check implements: given the node context and a deadline,
 * say whether the component works and why, in one line.
 */
import type { NodeContext } from "../context.ts";

/** The outcome of one check, as it appears under `components` in the health document. */
export interface CheckResult {
  readonly ok: boolean;
  /** One line a person can act on. */
  readonly detail: string;
  /** Structured facts the check found (slot, version, sources of config...). */
  readonly data?: Readonly<Record<string, string | number | boolean | null>>;
  /**
   * The component did not answer within the deadline (as opposed to refusing or
   * answering wrong). The health service forgives one such round after a good one.
   */
  readonly timedOut?: boolean;
}

/** A health check. `timeoutMs` is the budget for any subprocess it runs. */
export type Check = (ctx: NodeContext, timeoutMs: number) => Promise<CheckResult>;

/** The first line of an error's message, for `detail`. */
export function oneLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split("\n")[0]?.trim() || "unknown error";
}
