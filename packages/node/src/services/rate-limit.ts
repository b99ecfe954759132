/**
 * @module services/rate-limit
 * The login limiter: each client address gets a few failed attempts per window, then
 * must wait; a success clears its record. Counting is lazy (no timers), and the table
 * is bounded so a flood of addresses cannot grow it without end.
 *
 * @example
 * ```ts
 * const limiter = new LoginLimiter(Date.now);
 * limiter.check("192.0.2.7");   // throws RateLimitError when blocked
 * limiter.failed("192.0.2.7");
 * ```
 */
import { RateLimitError } from "../api/http-errors.ts";

export interface LimiterSettings {
  /** Failed attempts allowed per address within `windowMs`. */
  readonly attempts: number;
  readonly windowMs: number;
  /** Addresses tracked at most (the oldest record is dropped). */
  readonly maxTracked: number;
}

export const LOGIN_LIMIT: LimiterSettings = { attempts: 5, windowMs: 60_000, maxTracked: 4096 };

export class LoginLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(
    private readonly now: () => number,
    private readonly settings: LimiterSettings = LOGIN_LIMIT,
  ) {}

  #recent(address: string): number[] {
    const t = this.now();
    const list = (this.#failures.get(address) ?? []).filter((x) => t - x < this.settings.windowMs);
    if (list.length === 0) this.#failures.delete(address);
    else this.#failures.set(address, list);
    return list;
  }

  /** Throws {@link RateLimitError} while `address` has used up its attempts. */
  check(address: string): void {
    const list = this.#recent(address);
    if (list.length >= this.settings.attempts) {
      const wait = this.settings.windowMs - (this.now() - list[0]!);
      throw new RateLimitError(Math.max(1, Math.ceil(wait / 1000)));
    }
  }

  failed(address: string): void {
    const list = this.#recent(address);
    list.push(this.now());
    this.#failures.delete(address);
    this.#failures.set(address, list);
    if (this.#failures.size > this.settings.maxTracked) {
      const oldest = this.#failures.keys().next().value;
      if (oldest !== undefined) this.#failures.delete(oldest);
    }
  }

  succeeded(address: string): void {
    this.#failures.delete(address);
  }
}
