/**
 * @module services/health
 * The node's health document: every component check run in parallel under one
 * deadline, the results cached for a while so a burst of requests (the console,
 * a monitoring poll, the update health gate) costs one round of subprocesses.
 * A healthy document is reused for 15 s, a degraded one for 5 s: a node coming up
 * (or recovering) is seen within seconds, while the steady polling of an idle node
 * (the two DCUIs ask every 5 s) spawns `virsh` and `ovs-vsctl` four times a minute,
 * not twenty-four (each round costs qx-node ~10 ms of CPU, mostly forking). On a slow
 * machine (a loaded TCG guest) checks that time out must not be retried back to back:
 * the retries themselves kept libvirtd from answering in time. A node that stays
 * degraded the same way (a component down for good) is re-checked less and less
 * often: once the same components have failed for a minute, the reuse time grows by
 * 5 s per round, up to the healthy 15 s, and falls back to 5 s as soon as the set
 * changes. Within that minute it stays 5 s: a booting node whose libvirtd is still
 * probing QEMU is seen healthy within 5 s of it answering, not 15.
 *
 * One slow round is not an outage. A component that answered in the previous round
 * and only timed out in this one (a TCG guest with its CPU taken by a migration or an
 * image write can keep `virsh` from starting within 3 s) stays ok for that round, its
 * detail saying the check was slow, and is re-checked 5 s later; a second timeout in
 * a row, or any refusal or wrong answer, fails it at once. This is the failure
 * threshold of a Kubernetes probe (2 here), and it never turns a component that has
 * not yet answered into a healthy one.
 *
 * @example
 * ```ts
 * const health = createHealthService(nodeContext());
 * const doc = await health.get(); // { status: "healthy", components: {...}, failing: [] }
 * ```
 */
import type { NodeContext } from "../context.ts";
import { checkBoot } from "./boot-check.ts";
import { type Check, type CheckResult, oneLine } from "./check.ts";
import { checkConfig } from "./config.ts";
import { checkData } from "./data.ts";
import { checkLibvirt } from "./libvirt.ts";
import { checkOvs } from "./ovs.ts";
import { checkSlot } from "./slot.ts";
import { TimeoutError, withTimeout } from "./timeout.ts";
import { checkVersion } from "./version.ts";

/** The components, in the order they are reported. Add a check here and it is served. */
export const CHECKS = {
  libvirtd: checkLibvirt,
  ovs: checkOvs,
  data: checkData,
  config: checkConfig,
  slot: checkSlot,
  version: checkVersion,
  boot: checkBoot,
} as const satisfies Record<string, Check>;

export type ComponentName = keyof typeof CHECKS;

export interface ComponentHealth extends CheckResult {
  /** How long the check took. */
  readonly ms: number;
  /** This round timed out; the component is reported on its previous good reading. */
  readonly slow?: boolean;
}

/** `GET /api/v1/health`. */
export interface HealthDocument {
  readonly status: "healthy" | "degraded";
  readonly version: string | null;
  readonly slot: string | null;
  /** When the checks ran (ISO 8601). */
  readonly checkedAt: string;
  readonly components: Readonly<Record<string, ComponentHealth>>;
  /** Names of the failing components, in report order; empty when healthy. */
  readonly failing: readonly string[];
}

export interface HealthOptions {
  /** The checks to run (default {@link CHECKS}). */
  readonly checks?: Readonly<Record<string, Check>>;
  /** Deadline of each check, in ms (default 3000). */
  readonly timeoutMs?: number;
  /** How long a healthy result is reused, in ms (default 15000). */
  readonly ttlMs?: number;
  /**
   * How long a degraded result is reused, in ms (default 5000, at most `ttlMs`); this
   * much longer per previous round that failed the same components, up to `ttlMs`.
   */
  readonly degradedTtlMs?: number;
  /** How long the same components must fail before their re-checks back off, in ms (default 60000). */
  readonly settleMs?: number;
}

export interface HealthService {
  /** The current document: cached when fresh, shared when a round is already running. */
  get(): Promise<HealthDocument>;
}

async function runOne(ctx: NodeContext, check: Check, timeoutMs: number, name: string): Promise<ComponentHealth> {
  const start = ctx.now();
  let r: CheckResult;
  try {
    // The check's own subprocess deadline is a little shorter, so it reports first.
    r = await withTimeout(check(ctx, Math.max(500, timeoutMs - 250)), timeoutMs, `${name} check`);
  } catch (e) {
    r = { ok: false, detail: oneLine(e), ...(e instanceof TimeoutError ? { timedOut: true } : {}) };
  }
  return { ...r, ms: Math.max(0, ctx.now() - start) };
}

/**
 * `doc` with each component that timed out right after a good round (and was not
 * already forgiven in that round) reported ok on its last good reading; the names
 * forgiven. See the module comment.
 */
export function forgiveOneTimeout(doc: HealthDocument, previous: HealthDocument | undefined): { doc: HealthDocument; forgiven: string[] } {
  const forgiven = doc.failing.filter((n) => {
    const now = doc.components[n];
    const before = previous?.components[n];
    return now?.timedOut === true && before?.ok === true && before.slow !== true;
  });
  if (forgiven.length === 0) return { doc, forgiven };
  const components: Record<string, ComponentHealth> = { ...doc.components };
  for (const n of forgiven) {
    const before = previous?.components[n] as ComponentHealth;
    const now = doc.components[n] as ComponentHealth;
    components[n] = { ...before, ms: now.ms, slow: true, detail: `${before.detail} (the last check was slow: ${now.detail}; it fails if the next one is too)` };
  }
  const failing = doc.failing.filter((n) => !forgiven.includes(n));
  return { doc: { ...doc, components, failing, status: failing.length === 0 ? "healthy" : "degraded" }, forgiven };
}

/** Runs every check once, in parallel, and assembles the document. */
export async function checkHealth(ctx: NodeContext, options: HealthOptions = {}): Promise<HealthDocument> {
  const checks: Readonly<Record<string, Check>> = options.checks ?? CHECKS;
  const timeoutMs = options.timeoutMs ?? 3000;
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runOne(ctx, checks[n] as Check, timeoutMs, n)));
  const components: Record<string, ComponentHealth> = {};
  names.forEach((n, i) => {
    components[n] = results[i] as ComponentHealth;
  });
  const failing = names.filter((n) => !components[n]?.ok);
  const version = components["version"]?.data?.["version"];
  const slot = components["slot"]?.data?.["slot"];
  return {
    status: failing.length === 0 ? "healthy" : "degraded",
    version: typeof version === "string" ? version : null,
    slot: typeof slot === "string" ? slot : null,
    checkedAt: new Date(ctx.now()).toISOString(),
    components,
    failing,
  };
}

/** A cached, coalescing health service (see the module comment). */
export function createHealthService(ctx: NodeContext, options: HealthOptions = {}): HealthService {
  const ttlMs = options.ttlMs ?? 15_000;
  const degradedTtlMs = Math.min(ttlMs, options.degradedTtlMs ?? 5000);
  const settleMs = options.settleMs ?? 60_000;
  /**
   * `ttl`: how long `doc` is reused; `since`: when its failing set was first seen;
   * `streak`: rounds in a row that failed the same components once settled.
   */
  let cached: { at: number; doc: HealthDocument; ttl: number; since: number; streak: number } | null = null;
  let running: Promise<HealthDocument> | null = null;
  return {
    get() {
      if (cached && ctx.now() - cached.at < cached.ttl) return Promise.resolve(cached.doc);
      if (running) return running;
      const previous = cached;
      running = checkHealth(ctx, options)
        .then((checked) => {
          const { doc, forgiven } = forgiveOneTimeout(checked, previous?.doc);
          const now = ctx.now();
          const same = doc.status === "degraded" && previous?.doc.status === "degraded" && previous.doc.failing.join() === doc.failing.join();
          const since = same && previous ? previous.since : now;
          const streak = same && previous && now - since >= settleMs ? previous.streak + 1 : 0;
          const ttl = doc.status === "healthy" && forgiven.length === 0 ? ttlMs : Math.min(ttlMs, degradedTtlMs * (streak + 1));
          cached = { at: now, doc, ttl, since, streak };
          return doc;
        })
        .finally(() => {
          running = null;
        });
      return running;
    },
  };
}
