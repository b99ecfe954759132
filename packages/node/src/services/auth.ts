/**
 * @module services/auth
 * Authentication of API callers: the admin login (rate-limited per client address,
 * at most two scrypt computations at a time), sessions, API tokens, and turning an
 * `Authorization: Bearer` header into a {@link Principal}.
 *
 * The admin account holds scope `admin`; an API token holds the scope it was made
 * with (`read` or `admin`). Root on the unix socket is trusted as `admin` (only root
 * can open it).
 *
 * @example
 * ```ts
 * const auth = await createAuthService({ dir: "/quantix/auth", now: Date.now });
 * const { token } = await auth.login("192.0.2.7", "admin", "s3cret-pass");
 * auth.principalFor(`Bearer ${token}`); // { kind: "session", scope: "admin", id }
 * ```
 */
import { RateLimitError, UnauthorizedError } from "../api/http-errors.ts";
import type { Principal } from "../api/route.ts";
import { AuthStore } from "./auth-store.ts";
import { LoginLimiter, type LimiterSettings } from "./rate-limit.ts";
import { SessionStore } from "./sessions.ts";

/** scrypt hashes that may run at once; more logins wait, and a long queue is refused. */
const MAX_CONCURRENT_HASHES = 2;
const MAX_QUEUED_LOGINS = 16;

export interface AuthServiceOptions {
  readonly dir: string;
  readonly now: () => number;
  readonly limit?: LimiterSettings;
  /** scrypt cost of new hashes (tests lower it). */
  readonly cost?: { logN: number; r: number; p: number };
}

export interface AuthService {
  readonly store: AuthStore;
  readonly sessions: SessionStore;
  /** Checks the admin's password; a session token on success. Throws 401 or 429. */
  login(address: string, username: string, password: string): Promise<{ token: string; expiresAt: string }>;
  /** The principal of an Authorization header value, or null. */
  principalFor(header: string | undefined): Principal | null;
  /** Changes the admin password and ends every session. */
  changePassword(password: string): Promise<void>;
}

export async function createAuthService(o: AuthServiceOptions): Promise<AuthService> {
  const store = new AuthStore(o.dir, { now: o.now, ...(o.cost ? { cost: o.cost } : {}) });
  await store.loadTokens();
  const sessions = new SessionStore(o.now);
  const limiter = new LoginLimiter(o.now, o.limit);
  let running = 0;
  const waiting: (() => void)[] = [];

  async function withHashSlot<T>(f: () => Promise<T>): Promise<T> {
    if (running >= MAX_CONCURRENT_HASHES) {
      if (waiting.length >= MAX_QUEUED_LOGINS) throw new RateLimitError(1);
      await new Promise<void>((r) => waiting.push(r));
    }
    running++;
    try {
      return await f();
    } finally {
      running--;
      waiting.shift()?.();
    }
  }

  return {
    store,
    sessions,
    async login(address, username, password) {
      limiter.check(address);
      const ok = await withHashSlot(() => store.verifyAdmin(username, password));
      if (!ok) {
        limiter.failed(address);
        throw new UnauthorizedError("wrong user name or password");
      }
      limiter.succeeded(address);
      const s = sessions.create();
      return { token: s.token, expiresAt: new Date(s.expiresAt).toISOString() };
    },
    principalFor(header) {
      if (!header) return null;
      const m = /^Bearer\s+(\S{1,200})$/i.exec(header);
      if (!m) return null;
      const token = m[1]!;
      if (token.startsWith("qxs_")) {
        const s = sessions.verify(token);
        return s ? { kind: "session", scope: "admin", id: s.id } : null;
      }
      const t = store.verifyToken(token);
      return t ? { kind: "token", scope: t.scope, id: t.id } : null;
    },
    async changePassword(password) {
      await store.setAdminPassword(password);
      sessions.clear();
    },
  };
}
