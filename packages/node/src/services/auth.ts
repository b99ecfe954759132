/**
 * @module services/auth
 * Authentication of API callers: the admin login, sessions, API tokens, and turning
 * an `Authorization: Bearer` header into a {@link Principal}.
 *
 * The admin account holds scope `admin`; an API token holds the scope it was made
 * with (`read` or `admin`). Root on the unix socket is trusted as `admin` (only root
 * can open it): the DCUI and the qx-node CLI go there and are never rate-limited, so
 * the person at the console is never locked out.
 *
 * Login limits (docs/security.md): an attempt is reserved before the password is
 * hashed (services/rate-limit) under
 * - `device:<id>` alone when it carries a valid device token (services/device-trust)
 *   from an earlier login: 5 free failures, then a growing back-off;
 * - otherwise `user:<name>@<address>` (5 free failures) and `addr:<address>` (20, any
 *   user name): guessing from one address slows that address down, more and more,
 *   while the admin's own browser (device token) and the console are unaffected.
 * At most two scrypt checks run at once; a queue of more than 16 is refused.
 * A password reset (API or console) ends every session and every lock-out; API
 * tokens are separate credentials and stay valid unless revoked (all at once:
 * `revokeAll`).
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
import { DeviceTrust } from "./device-trust.ts";
import { LOGIN_LIMIT, type LimitKey, LoginLimiter, type LimiterSettings } from "./rate-limit.ts";
import { SessionStore } from "./sessions.ts";

/** scrypt hashes that may run at once; more logins wait, and a long queue is refused. */
const MAX_CONCURRENT_HASHES = 2;
const MAX_QUEUED_LOGINS = 16;
/** An address may fail this many times more than one user name at it (any user names together). */
const ADDRESS_FACTOR = 4;

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
  /**
   * Checks the admin's password; on success a session token and a device token (to
   * present at the next login from this client). Throws 401 or 429.
   */
  login(address: string, username: string, password: string, device?: string): Promise<LoginResult>;
  /** The principal of an Authorization header value, or null. */
  principalFor(header: string | undefined): Principal | null;
  /**
   * Sets the admin password (when `current` is given, only if it is the password
   * now), ends every session and every lock-out; `revokeTokens` also revokes every
   * API token. Null when `current` is wrong (nothing changed).
   */
  changePassword(password: string, o?: { current?: string; revokeTokens?: boolean }): Promise<PasswordChange | null>;
  /** Ends every lock-out (the console's "unlock"). */
  clearLockouts(): void;
}

export interface PasswordChange {
  readonly sessionsEnded: number;
  readonly tokensRevoked: number;
}

export interface LoginResult {
  readonly token: string;
  readonly expiresAt: string;
  /** Present it as `device` at the next login from this client. */
  readonly device: string;
}

export async function createAuthService(o: AuthServiceOptions): Promise<AuthService> {
  const store = new AuthStore(o.dir, { now: o.now, ...(o.cost ? { cost: o.cost } : {}) });
  await store.loadTokens();
  const sessions = new SessionStore(o.now);
  const settings = o.limit ?? LOGIN_LIMIT;
  const limiter = new LoginLimiter(o.now, settings);
  const trust = await DeviceTrust.open(o.dir);
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
    async login(address, username, password, device) {
      const user = username.toLowerCase();
      const deviceId = trust.verify(device, user);
      const keys: LimitKey[] = deviceId
        ? [{ key: `device:${deviceId}` }]
        : [{ key: `user:${user}@${address}` }, { key: `addr:${address}`, attempts: settings.attempts * ADDRESS_FACTOR }];
      const attempt = limiter.reserve(keys);
      // Taken before the password is read: a password set while this check runs ends the session it opens.
      const generation = store.adminGeneration();
      let ok: boolean;
      try {
        ok = await withHashSlot(() => store.verifyAdmin(username, password));
      } catch (e) {
        attempt.cancel();
        throw e;
      }
      if (!ok) {
        attempt.failed();
        throw new UnauthorizedError("wrong user name or password");
      }
      attempt.succeeded();
      const s = sessions.create(generation);
      return { token: s.token, expiresAt: new Date(s.expiresAt).toISOString(), device: deviceId && device ? device : trust.issue(user) };
    },
    principalFor(header) {
      if (!header) return null;
      const m = /^Bearer\s+(\S{1,200})$/i.exec(header);
      if (!m) return null;
      const token = m[1]!;
      if (token.startsWith("qxs_")) {
        const s = sessions.verify(token, store.adminGeneration());
        return s ? { kind: "session", scope: "admin", id: s.id } : null;
      }
      const t = store.verifyToken(token);
      return t ? { kind: "token", scope: t.scope, id: t.id } : null;
    },
    async changePassword(password, co = {}) {
      if (co.current === undefined) await store.setAdminPassword(password);
      else if (!(await withHashSlot(() => store.changeAdminPassword(co.current as string, password)))) return null;
      const sessionsEnded = sessions.size;
      sessions.clear();
      limiter.clear();
      const tokensRevoked = co.revokeTokens ? await store.revokeAllTokens() : 0;
      return { sessionsEnded, tokensRevoked };
    },
    clearLockouts() {
      limiter.clear();
    },
  };
}
