/**
 * @module progress
 * Progress output for the CLI: a bar redrawn in place on a terminal, plain lines
 * (each phase, every 10 %) otherwise, nothing with `--json`.
 */
import type { ProgressFn } from "./install.ts";

export function progressPrinter(out: NodeJS.WriteStream, mode: "tty" | "lines" | "none"): ProgressFn {
  let last = "";
  let lastPct = -1;
  let barOpen = false;
  return (phase, done, total) => {
    if (mode === "none") return;
    if (done === undefined || !total) {
      if (barOpen) out.write("\n");
      barOpen = false;
      lastPct = -1;
      if (phase !== last) out.write(`qx-update: ${phase}\n`);
      last = phase;
      return;
    }
    const pct = Math.min(100, Math.floor((100 * done) / total));
    if (phase !== last) {
      if (barOpen) out.write("\n");
      barOpen = false;
      lastPct = -1;
      last = phase;
    }
    if (mode === "tty") {
      const width = 30;
      const fill = Math.round((width * pct) / 100);
      out.write(`\r  ${phase.padEnd(9)} [${"#".repeat(fill)}${" ".repeat(width - fill)}] ${String(pct).padStart(3)}%  ${(done / 2 ** 20).toFixed(0)}/${(total / 2 ** 20).toFixed(0)} MiB`);
      barOpen = true;
    } else if (pct >= lastPct + 10 || (pct === 100 && lastPct !== 100)) {
      lastPct = pct - (pct % 10);
      out.write(`qx-update: ${phase} ${pct}% (${(done / 2 ** 20).toFixed(0)}/${(total / 2 ** 20).toFixed(0)} MiB)\n`);
    }
  };
}
