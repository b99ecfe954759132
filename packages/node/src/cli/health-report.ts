/**
 * @module cli/health-report
 * `qx-node health` as text: one line per component, failing ones marked.
 */
import type { HealthDocument } from "../services/health.ts";

/** Exit codes of `qx-node health`. */
export const HEALTH_EXIT = { healthy: 0, degraded: 1, unreachable: 3 } as const;

/** The health document as lines a person reads. */
export function formatHealth(doc: HealthDocument): string {
  const head = `${doc.status.toUpperCase()}  version ${doc.version ?? "?"}  slot ${doc.slot ?? "?"}`;
  const names = Object.keys(doc.components);
  const width = Math.max(...names.map((n) => n.length));
  const lines = names.map((n) => {
    const c = doc.components[n];
    return `  ${c?.ok ? "ok  " : "FAIL"}  ${n.padEnd(width)}  ${c?.detail ?? ""}`;
  });
  return `${[head, ...lines].join("\n")}\n`;
}
