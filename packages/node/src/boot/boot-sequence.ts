/**
 * @module boot/boot-sequence
 * The node's boot-time jobs as named phases in one process (`qx-boot`, OpenRC
 * `quantix-boot`): each phase names the phases it comes after and starts as soon as
 * they have ended, whatever their outcome (an order, not a dependency: a failed first
 * boot still lets the network come up). A failed phase is recorded with its reason and
 * stops nothing else. The report is kept in `/run/quantix/boot.json`, where qx-node's
 * health reads it (component `boot`).
 *
 * One process instead of one per job: under emulation each Node.js start costs
 * seconds of the boot (docs/boot-speed.md).
 *
 * @example
 * ```ts
 * const report = await runBootPhases([
 *   { name: "firstboot", run: async () => "node.yaml present" },
 *   { name: "network", after: ["firstboot"], run: async () => "dhcp 10.0.2.15/24" },
 * ], { log: console.log });
 * ```
 */
import { z } from "zod";

/** Where qx-boot keeps the report, relative to the root (qx-node's health reads it). */
export const BOOT_REPORT = "run/quantix/boot.json";

export interface BootPhase {
  readonly name: string;
  /** Phases this one starts after (they may have failed). */
  readonly after?: readonly string[];
  /** Runs the phase: a one-line result, or `{ skipped: why }` when there was nothing to do. Throws on failure. */
  readonly run: () => Promise<string | { skipped: string }>;
}

export const PhaseStatus = z.enum(["done", "skipped", "failed"]);

export const PhaseReport = z.object({
  name: z.string(),
  status: PhaseStatus,
  message: z.string(),
  /** Start and length, in ms since the sequence started. */
  startMs: z.number(),
  ms: z.number(),
});
export type PhaseReport = z.infer<typeof PhaseReport>;

export const BootReport = z.object({
  ok: z.boolean(),
  at: z.string(),
  phases: z.array(PhaseReport),
});
export type BootReport = z.infer<typeof BootReport>;

/** Throws when a phase names an unknown phase or the order has a cycle. */
export function checkOrder(phases: readonly BootPhase[]): void {
  const names = new Set(phases.map((p) => p.name));
  if (names.size !== phases.length) throw new Error("two boot phases have the same name");
  for (const p of phases) for (const a of p.after ?? []) if (!names.has(a)) throw new Error(`boot phase ${p.name} comes after an unknown phase ${a}`);
  const seen = new Set<string>();
  const visiting = new Set<string>();
  const byName = new Map(phases.map((p) => [p.name, p]));
  const visit = (n: string, path: string[]) => {
    if (seen.has(n)) return;
    if (visiting.has(n)) throw new Error(`boot phases in a cycle: ${[...path, n].join(" → ")}`);
    visiting.add(n);
    for (const a of byName.get(n)?.after ?? []) visit(a, [...path, n]);
    visiting.delete(n);
    seen.add(n);
  };
  for (const p of phases) visit(p.name, []);
}

/** Runs the phases (see the module comment); logs `name: result` for each. */
export async function runBootPhases(
  phases: readonly BootPhase[],
  o: { log: (line: string) => void; now?: () => number },
): Promise<BootReport> {
  checkOrder(phases);
  const now = o.now ?? (() => performance.now());
  const t0 = now();
  const ends = new Map<string, Promise<PhaseReport>>();
  const start = (p: BootPhase): Promise<PhaseReport> => {
    let done = ends.get(p.name);
    if (done) return done;
    done = (async () => {
      await Promise.all((p.after ?? []).map((a) => start(phases.find((x) => x.name === a) as BootPhase)));
      const s = now();
      const report = (status: PhaseReport["status"], message: string): PhaseReport => ({
        name: p.name,
        status,
        message,
        startMs: Math.round(s - t0),
        ms: Math.round(now() - s),
      });
      try {
        const r = await p.run();
        const out = typeof r === "string" ? report("done", r) : report("skipped", r.skipped);
        o.log(`${p.name}: ${out.status === "skipped" ? "skipped: " : ""}${out.message} (${out.ms} ms)`);
        return out;
      } catch (e) {
        const out = report("failed", (e instanceof Error ? e.message : String(e)).split("\n")[0] ?? "failed");
        o.log(`${p.name}: FAILED: ${out.message}`);
        return out;
      }
    })();
    ends.set(p.name, done);
    return done;
  };
  const results = await Promise.all(phases.map(start));
  return { ok: results.every((r) => r.status !== "failed"), at: new Date().toISOString(), phases: results };
}
