/**
 * @module services/rate-limit
 * The login limiter. An attempt is **reserved before the password is hashed**: it
 * counts as a failure from the moment it is let through, and a success takes it back.
 * So N parallel wrong logins get at most `attempts` password checks, not N.
 *
 * Each attempt is counted under one or more keys (see services/auth for which):
 * `attempts` failures are free within `windowMs`; after those, each further attempt
 * waits a growing back-off after the last failure (`baseDelayMs`, doubling, at most
 * `maxDelayMs`): no fixed lockout that holds the right password back for a minute,
 * and a guessing loop gets slower and slower. A success clears the keys it used.
 * Counting is lazy (no timers); the table is bounded, the oldest record dropped.
 *
 * @example
 * ```ts
 * const limiter = new LoginLimiter(Date.now);
 * const attempt = limiter.reserve(["user:admin@192.0.2.7"]); // throws RateLimitError while blocked
 * ok ? attempt.succeeded() : attempt.failed();
 * ```
 */
import { RateLimitError } from "../api/http-errors.ts";

export interface LimiterSettings {
  /** Failures allowed per key before the back-off starts. */
  readonly attempts: number;
  /** A failure older than this is forgotten. */
  readonly windowMs: number;
  /** The first wait after the free attempts; doubles with each further failure. */
  readonly baseDelayMs: number;
  /** The longest wait. */
  readonly maxDelayMs: number;
  /** Keys tracked at most (the oldest record is dropped). */
  readonly maxTracked: number;
}

/** 5 free failures per key in 15 min, then 1 s, 2 s, 4 s … up to 15 min between attempts. */
export const LOGIN_LIMIT: LimiterSettings = {
  attempts: 5,
  windowMs: 15 * 60_000,
  baseDelayMs: 1000,
  maxDelayMs: 15 * 60_000,
  maxTracked: 4096,
};

/** One key of an attempt, with its own allowance (a multiple of the settings' `attempts`). */
export interface LimitKey {
  readonly key: string;
  /** Free failures for this key (default: the settings' `attempts`). */
  readonly attempts?: number;
}

export interface Attempt {
  /** The password was right: the failures counted under the attempt's keys are forgotten. */
  succeeded(): void;
  /** The password was wrong: the failure stays counted (its time is now, after the hash). */
  failed(): void;
  /** No password was checked after all (the server was too busy): the reservation is taken back. */
  cancel(): void;
}

export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(
    private readonly now: () => number,
    private readonly settings: LimiterSettings = LOGIN_LIMIT,
  ) {}

  #recent(key: string): number[] {
    const t = this.now();
    const list = (this.#failures.get(key) ?? []).filter((x) => t - x < this.settings.windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** Milliseconds `key` must still wait (0: an attempt may go ahead). */
  waitMs(k: LimitKey): number {
    const list = this.#recent(k.key);
    const free = k.attempts ?? this.settings.attempts;
    if (list.length < free) return 0;
    const over = list.length - free;
    const delay = Math.min(this.settings.maxDelayMs, this.settings.baseDelayMs * 2 ** Math.min(over, 40));
    const last = Math.max(...list);
    return Math.max(0, last + delay - this.now());
  }

  /**
   * Lets an attempt through and counts it under every key as a failure right away,
   * or throws {@link RateLimitError} (with the longest wait) when any key must wait.
   */
  reserve(keys: readonly LimitKey[]): Attempt {
    const wait = Math.max(0, ...keys.map((k) => this.waitMs(k)));
    if (wait > 0) throw new RateLimitError(Math.max(1, Math.ceil(wait / 1000)));
    const stamps = keys.map((k) => ({ key: k.key, at: this.#push(k.key) }));
    let settled = false;
    const drop = () => {
      for (const s of stamps) {
        const list = this.#failures.get(s.key);
        const i = list?.indexOf(s.at) ?? -1;
        if (list && i >= 0) list.splice(i, 1);
        if (list?.length === 0) this.#failures.delete(s.key);
      }
    };
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        for (const s of stamps) this.#failures.delete(s.key);
      },
      failed: () => {
        if (settled) return;
        settled = true;
        // The back-off counts from the end of the failed check, not from its start.
        for (const s of stamps) {
          const list = this.#failures.get(s.key);
          const i = list?.indexOf(s.at) ?? -1;
          if (list && i >= 0) list[i] = this.now();
        }
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        drop();
      },
    };
  }

  #push(key: string): number {
    const list = this.#recent(key);
    const t = this.now();
    list.push(t);
    this.#failures.delete(key);
    this.#failures.set(key, list);
    if (this.#failures.size > this.settings.maxTracked) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
    return t;
  }

  /** Forgets every failure (a password reset at the console ends every lock-out). */
  clear(): void {
    this.#failures.clear();
  }
}
