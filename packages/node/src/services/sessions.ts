/**
 * @module services/sessions
 * Login sessions, in memory only (a restart of qx-node logs everyone out). A session
 * token is `qxs_` + 32 random bytes; only its SHA-256 is kept. Sessions expire after
 * 30 minutes idle or 12 hours in all; expiry is checked when a token is used, so
 * nothing runs while the node is idle. A session belongs to the admin account's
 * generation it was opened under (services/auth-store): once the password is set
 * again, by whatever means, its sessions are dead.
 *
 * @example
 * ```ts
 * const sessions = new SessionStore(Date.now);
 * const { token } = sessions.create(store.adminGeneration());
 * sessions.verify(token, store.adminGeneration()); // { id, createdAt, ... } or null
 * ```
 */
import { createHash, randomBytes } from "node:crypto";

export const SESSION_IDLE_MS = 30 * 60_000;
export const SESSION_MAX_MS = 12 * 3600_000;
/** The oldest session is dropped when a new one would exceed this. */
export const MAX_SESSIONS = 64;

export interface Session {
  /** Short id for logs and the UI (the first hex digits of the hash); not a secret. */
  readonly id: string;
  readonly createdAt: number;
  /** The admin account's generation when the session was opened. */
  readonly generation: string;
  lastUsedAt: number;
}

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

export class SessionStore {
  readonly #byHash = new Map<string, Session>();
  constructor(
    private readonly now: () => number,
    private readonly limits = { idleMs: SESSION_IDLE_MS, maxMs: SESSION_MAX_MS },
  ) {}

  /** A new session and its token (shown to the client once). */
  create(generation: string): { token: string; session: Session; expiresAt: number } {
    const token = `qxs_${randomBytes(32).toString("base64url")}`;
    const hash = digest(token);
    const t = this.now();
    const session: Session = { id: hash.slice(0, 12), createdAt: t, generation, lastUsedAt: t };
    if (this.#byHash.size >= MAX_SESSIONS) {
      const oldest = this.#byHash.keys().next().value;
      if (oldest !== undefined) this.#byHash.delete(oldest);
    }
    this.#byHash.set(hash, session);
    return { token, session, expiresAt: this.expiresAt(session) };
  }

  expiresAt(s: Session): number {
    return Math.min(s.lastUsedAt + this.limits.idleMs, s.createdAt + this.limits.maxMs);
  }

  /** The live session of `token` under the admin's current `generation` (and marks it used), or null. */
  verify(token: string, generation: string): Session | null {
    const hash = digest(token);
    const s = this.#byHash.get(hash);
    if (!s) return null;
    const t = this.now();
    if (t >= this.expiresAt(s) || s.generation !== generation) {
      this.#byHash.delete(hash);
      return null;
    }
    s.lastUsedAt = t;
    return s;
  }

  /** Ends the session of `token`; true when there was one. */
  end(token: string): boolean {
    return this.#byHash.delete(digest(token));
  }

  /** Open sessions (some may have expired unnoticed). */
  get size(): number {
    return this.#byHash.size;
  }

  /** Ends every session (after a password change). */
  clear(): void {
    this.#byHash.clear();
  }
}
