/**
 * @module tokens
 * Join tokens (kubeadm's bootstrap token form, `abcdef.0123456789abcdef`) and API tokens
 * (`qxa_<id>.<secret>`, with a role). Only a SHA-256 of each secret is stored: the secrets
 * are 82 and 165 bits of randomness, so a slow hash would add nothing. A join token has a
 * lifetime (24 h by default), an optional use limit, a description, and can be revoked;
 * every refusal says which of these it was and what to do.
 */
import { createHash, randomInt, timingSafeEqual } from "node:crypto";
import type { Entry, Store } from "./etcd/store.ts";
import { AuthError, NotFoundError, TokenError } from "./errors.ts";
import { JOIN_TOKEN_RE, KEYS, type Role, type StoredApiToken, type StoredJoinToken } from "./model.ts";

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const API_TOKEN_RE = /^qxa_([a-z0-9]{10})\.([a-z0-9]{32})$/;

function random(n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A join token as the API shows it: never the secret. */
export interface JoinTokenView {
  readonly id: string;
  readonly description: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usageLimit: number | null;
  readonly uses: number;
  readonly state: "valid" | "expired" | "used-up" | "revoked";
  readonly createdBy: string;
}

export function viewToken(t: StoredJoinToken, now = Date.now()): JoinTokenView {
  const state = t.revokedAt
    ? "revoked"
    : Date.parse(t.expiresAt) <= now
      ? "expired"
      : t.usageLimit !== null && t.uses >= t.usageLimit
        ? "used-up"
        : "valid";
  const { secretHash: _s, revokedAt: _r, ...rest } = t;
  return { ...rest, state };
}

function ago(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min ago` : `${Math.round(m / 60)} h ago`;
}

export class JoinTokens {
  constructor(readonly store: Store) {}

  async create(o: { description: string; ttlSeconds: number; usageLimit: number | null; createdBy: string }, now = new Date()): Promise<{ token: string; view: JoinTokenView }> {
    for (;;) {
      const id = random(6);
      const secret = random(16);
      const rec: StoredJoinToken = {
        id,
        secretHash: hashSecret(secret),
        description: o.description,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + o.ttlSeconds * 1000).toISOString(),
        usageLimit: o.usageLimit,
        uses: 0,
        createdBy: o.createdBy,
      };
      // 36^6 ids: a clash is rare but possible; the transaction refuses to overwrite.
      if (await this.store.txn().ifMissing(KEYS.token(id)).put(KEYS.token(id), rec).commit()) {
        return { token: `${id}.${secret}`, view: viewToken(rec, now.getTime()) };
      }
    }
  }

  async list(now = Date.now()): Promise<JoinTokenView[]> {
    return (await this.store.list<StoredJoinToken>(KEYS.tokens)).map((e) => viewToken(e.value, now));
  }

  /** Revokes a token by id (or by the whole token); the record is kept to explain later refusals. */
  async revoke(idOrToken: string, now = new Date()): Promise<JoinTokenView> {
    const id = idOrToken.split(".")[0] ?? "";
    for (;;) {
      const e = await this.store.get<StoredJoinToken>(KEYS.token(id));
      if (!e) throw new NotFoundError(`no join token with id ${id}`, "list them with `qxctl token list`");
      if (e.value.revokedAt) return viewToken(e.value, now.getTime());
      const rec = { ...e.value, revokedAt: now.toISOString() };
      if (await this.store.txn().ifUnchanged(e.key, e.modRevision).put(e.key, rec).commit()) return viewToken(rec, now.getTime());
    }
  }

  /**
   * Checks a presented join token; returns its entry (with the revision a join transaction
   * compares) or throws TokenError saying exactly why it is refused.
   */
  async check(token: string, now = Date.now()): Promise<Entry<StoredJoinToken>> {
    const m = JOIN_TOKEN_RE.exec(token);
    if (!m) {
      throw new TokenError(400, "TOKEN_MALFORMED", "the join token is not of the form abcdef.0123456789abcdef (6 and 16 lowercase letters or digits)", {
        hint: "copy the whole token printed by `qxctl token create`",
      });
    }
    const [, id = "", secret = ""] = m;
    const e = await this.store.get<StoredJoinToken>(KEYS.token(id));
    if (!e || !sameHash(e.value.secretHash, hashSecret(secret))) {
      throw new TokenError(401, "TOKEN_UNKNOWN", `join token ${id} is not known to this cluster`, {
        hint: "check the control plane URL, or create a token with `qxctl token create`",
      });
    }
    const t = e.value;
    if (t.revokedAt) {
      throw new TokenError(401, "TOKEN_REVOKED", `join token ${id} was revoked at ${t.revokedAt}`, { hint: "create a new one with `qxctl token create`" });
    }
    const exp = Date.parse(t.expiresAt);
    if (exp <= now) {
      throw new TokenError(401, "TOKEN_EXPIRED", `join token ${id} expired at ${t.expiresAt} (${ago(now - exp)})`, {
        hint: "create a new one with `qxctl token create --ttl 24h`",
        details: { expiresAt: t.expiresAt },
      });
    }
    if (t.usageLimit !== null && t.uses >= t.usageLimit) {
      throw new TokenError(401, "TOKEN_USED_UP", `join token ${id} has been used ${t.uses} of ${t.usageLimit} times`, {
        hint: "create a new one with `qxctl token create`, or give it a higher --usage-limit",
      });
    }
    return e;
  }
}

export interface Principal {
  readonly kind: "admin";
  readonly id: string;
  readonly role: Role;
}

export class ApiTokens {
  readonly #cache = new Map<string, { rec: StoredApiToken | null; at: number }>();
  constructor(readonly store: Store) {}

  async create(o: { role: Role; description: string }, now = new Date()): Promise<{ token: string; id: string; role: Role }> {
    for (;;) {
      const id = random(10);
      const secret = random(32);
      const rec: StoredApiToken = { id, secretHash: hashSecret(secret), role: o.role, description: o.description, createdAt: now.toISOString() };
      if (await this.store.txn().ifMissing(KEYS.apiToken(id)).put(KEYS.apiToken(id), rec).commit()) {
        return { token: `qxa_${id}.${secret}`, id, role: o.role };
      }
    }
  }

  async list(): Promise<Omit<StoredApiToken, "secretHash">[]> {
    return (await this.store.list<StoredApiToken>(KEYS.apiTokens)).map(({ value: { secretHash: _s, ...rest } }) => rest);
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.store.get(KEYS.apiToken(id)))) throw new NotFoundError(`no API token with id ${id}`, "list them with `qxctl token list --api`");
    await this.store.delete(KEYS.apiToken(id));
    this.#cache.delete(id);
  }

  /** The principal of a bearer token; cached 5 s so every request does not read etcd. */
  async authenticate(bearer: string, now = Date.now()): Promise<Principal> {
    const m = API_TOKEN_RE.exec(bearer);
    if (!m) throw new AuthError(401, "AUTH_MALFORMED", "the API token is not of the form qxa_<id>.<secret>", { hint: "log in again with `qxctl login`" });
    const [, id = "", secret = ""] = m;
    let c = this.#cache.get(id);
    if (!c || now - c.at > 5000) {
      c = { rec: (await this.store.get<StoredApiToken>(KEYS.apiToken(id)))?.value ?? null, at: now };
      this.#cache.set(id, c);
    }
    if (!c.rec || !sameHash(c.rec.secretHash, hashSecret(secret))) {
      throw new AuthError(401, "AUTH_UNKNOWN", `API token ${id} is unknown or was revoked`, { hint: "ask an admin for a new one (`qxctl token create --api`)" });
    }
    return { kind: "admin", id, role: c.rec.role };
  }
}
