/**
 * @module firstboot/sequence
 * A lifecycle as a named list of phases (after Talos's `v1alpha1_sequencer.go`):
 * each phase is a function that checks what exists, does what is missing, and
 * returns a one-line result. The runner logs every phase and keeps going after a
 * failed phase only when the phase says it may.
 *
 * @example
 * ```ts
 * const seq = new Sequence<Ctx>().append("ensureConfigDir", ensureConfigDir).appendWhen(cond, "x", x);
 * const report = await runSequence(seq, ctx, console.log);
 * ```
 */

/** What a phase did, in one line. `skipped` = nothing to do (already in place). */
export interface PhaseResult {
  readonly status: "done" | "skipped" | "warning";
  readonly message: string;
}

export interface Phase<C> {
  readonly name: string;
  readonly run: (ctx: C) => Promise<PhaseResult>;
  /** When true, a failure of this phase does not stop the phases after it. */
  readonly continueOnError: boolean;
  /** When true, the phase runs only if every phase before it succeeded (a final "mark done"). */
  readonly onlyIfAllOk: boolean;
}

export interface PhaseOptions {
  continueOnError?: boolean;
  onlyIfAllOk?: boolean;
}

/** An ordered list of named phases. */
export class Sequence<C> {
  readonly phases: Phase<C>[] = [];

  append(name: string, run: (ctx: C) => Promise<PhaseResult>, options: PhaseOptions = {}): this {
    this.phases.push({ name, run, continueOnError: options.continueOnError ?? false, onlyIfAllOk: options.onlyIfAllOk ?? false });
    return this;
  }

  /** Appends the phase only when `when` is true (Talos `AppendWhen`). */
  appendWhen(when: boolean, name: string, run: (ctx: C) => Promise<PhaseResult>, options: PhaseOptions = {}): this {
    return when ? this.append(name, run, options) : this;
  }

  get names(): string[] {
    return this.phases.map((p) => p.name);
  }
}

export interface PhaseOutcome {
  readonly name: string;
  readonly status: PhaseResult["status"] | "failed" | "not-run";
  readonly message: string;
  readonly error?: unknown;
}

export interface SequenceReport {
  readonly ok: boolean;
  readonly phases: readonly PhaseOutcome[];
}

/** Runs the phases in order; logs `name: status: message` per phase. */
export async function runSequence<C>(seq: Sequence<C>, ctx: C, log: (line: string) => void): Promise<SequenceReport> {
  const outcomes: PhaseOutcome[] = [];
  let stopped = false;
  let ok = true;
  for (const phase of seq.phases) {
    if (stopped || (phase.onlyIfAllOk && !ok)) {
      outcomes.push({ name: phase.name, status: "not-run", message: "not run: an earlier phase failed" });
      log(`${phase.name}: not run (an earlier phase failed)`);
      continue;
    }
    try {
      const r = await phase.run(ctx);
      outcomes.push({ name: phase.name, ...r });
      log(`${phase.name}: ${r.status === "done" ? "" : `${r.status}: `}${r.message}`);
    } catch (e) {
      ok = false;
      const message = e instanceof Error ? e.message : String(e);
      outcomes.push({ name: phase.name, status: "failed", message, error: e });
      log(`${phase.name}: FAILED: ${message}`);
      if (!phase.continueOnError) stopped = true;
    }
  }
  return { ok, phases: outcomes };
}
