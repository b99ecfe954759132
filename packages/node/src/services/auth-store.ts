/**
 * @module services/auth-store
 * What authentication keeps on the config partition, in `/quantix/auth/` (0700):
 *
 * - `admin.json` (0600): the admin account, `{ username, hash, changedAt }`, the hash
 *   an scrypt string from {@link hashPassword};
 * - `tokens.json` (0600): API tokens, `{ id, name, scope, sha256, createdAt }`. A token
 *   is `qxt_<16 hex id>_<43 chars secret>` and is shown once, at creation; only the
 *   SHA-256 of the whole token is stored.
 *
 * Tokens are held in memory after the first load (this store is their only writer),
 * so checking one costs a hash and a map lookup. Every change (a token created or
 * revoked, the password set) runs under one lock and is on disk before the call
 * returns: parallel creates all land, and a revoked token never comes back because a
 * create beside it wrote the list it had read before the revoke.
 *
 * The admin account's **generation** is the identity of admin.json on disk (inode,
 * size, modification time): a password set by any means (the API, the DCUI, or
 * `qx-node set-admin-password` writing the file while the daemon runs) changes it,
 * and sessions opened under an older generation are dead (services/sessions).
 *
 * @example
 * ```ts
 * const store = new AuthStore("/quantix/auth");
 * const { token } = await store.createToken("monitoring", "read");
 * store.verifyToken(token); // { id, name, scope: "read", ... }
 * ```
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { promises as fs, statSync } from "node:fs";
import { join } from "node:path";
import { Mutex, writeFileAtomic } from "@quantix/core";
import { z } from "zod";
import { DEFAULT_COST, hashPassword, verifyPassword } from "./password-hash.ts";

export const ADMIN_USER = "admin";
export const MAX_TOKENS = 100;

export const TokenScope = z.enum(["read", "admin"], { message: "expected read or admin" });
export type TokenScope = z.infer<typeof TokenScope>;
export const TokenName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/, "expected 1-64 letters, digits, spaces, '.', '_' or '-'");

/** An API token as listed (never its secret). */
export const TokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  scope: TokenScope,
  createdAt: z.string(),
});
export type TokenInfo = z.infer<typeof TokenInfo>;

const StoredToken = TokenInfo.extend({ sha256: z.string().regex(/^[0-9a-f]{64}$/) });
type StoredToken = z.infer<typeof StoredToken>;
const TokensFile = z.object({ tokens: z.array(StoredToken) });
const AdminFile = z.object({ username: z.string(), hash: z.string(), changedAt: z.string() });

const TOKEN_RE = /^qxt_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$/;
const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
};
const sha256 = (s: string) => createHash("sha256").update(s).digest();

export class AuthStore {
  #tokens: StoredToken[] | null = null;
  /** Every write of this store, in order (one at a time). */
  readonly #lock = new Mutex();
  readonly adminPath: string;
  readonly tokensPath: string;

  constructor(
    readonly dir: string,
    private readonly options: { cost?: { logN: number; r: number; p: number }; now?: () => number } = {},
  ) {
    this.adminPath = join(dir, "admin.json");
    this.tokensPath = join(dir, "tokens.json");
  }

  async #write(path: string, value: unknown): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  }

  async #readAdmin(): Promise<z.infer<typeof AdminFile> | null> {
    const text = await fs.readFile(this.adminPath, "utf8").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
    if (text === null) return null;
    const r = AdminFile.safeParse(parseJson(text));
    return r.success ? r.data : null; // unreadable: as if unset (a new random password is made at start)
  }

  /** True when the admin account has a password. */
  async hasAdmin(): Promise<boolean> {
    return (await this.#readAdmin()) !== null;
  }

  /** Sets (or replaces) the admin password. */
  async setAdminPassword(password: string): Promise<void> {
    const hash = await hashPassword(password, this.options.cost ?? DEFAULT_COST);
    await this.#lock.run(() => this.#writeAdmin(hash));
  }

  /**
   * Replaces the password only if `current` is the password right now (checked and
   * written under the store's lock): of parallel changes from one password, one wins
   * and the others are told the current password is wrong. False when it is.
   */
  async changeAdminPassword(current: string, password: string): Promise<boolean> {
    const hash = await hashPassword(password, this.options.cost ?? DEFAULT_COST);
    return this.#lock.run(async () => {
      if (!(await this.verifyAdmin(ADMIN_USER, current))) return false;
      await this.#writeAdmin(hash);
      return true;
    });
  }

  async #writeAdmin(hash: string): Promise<void> {
    const now = new Date(this.options.now?.() ?? Date.now()).toISOString();
    await this.#write(this.adminPath, { username: ADMIN_USER, hash, changedAt: now });
  }

  /**
   * The admin account's generation (see the module comment): changes whenever
   * admin.json is replaced; "none" while there is no file. A `stat`, no read.
   */
  adminGeneration(): string {
    try {
      const s = statSync(this.adminPath, { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
    } catch {
      return "none";
    }
  }

  /** True when `username`/`password` are the admin's (always does the scrypt work, even for a wrong user). */
  async verifyAdmin(username: string, password: string): Promise<boolean> {
    const admin = await this.#readAdmin();
    const ok = await verifyPassword(password, admin?.hash ?? "scrypt$10$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    return ok && admin !== null && username === admin.username;
  }

  /** Loads tokens.json into memory (a missing file is no tokens). */
  async loadTokens(): Promise<void> {
    const text = await fs.readFile(this.tokensPath, "utf8").catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
    if (text === null) {
      this.#tokens = [];
      return;
    }
    const r = TokensFile.safeParse(parseJson(text));
    if (r.success) {
      this.#tokens = r.data.tokens;
      return;
    }
    // A broken token file must not keep the API down: it is set aside, and no token is valid.
    await fs.rename(this.tokensPath, `${this.tokensPath}.bad`).catch(() => undefined);
    this.#tokens = [];
  }

  #list(): StoredToken[] {
    if (!this.#tokens) throw new Error("AuthStore.loadTokens() was not called");
    return this.#tokens;
  }

  listTokens(): TokenInfo[] {
    return this.#list().map(({ sha256: _, ...info }) => info);
  }

  /** Creates a token; the returned `token` is the only copy of its secret. It is on disk when this returns. */
  createToken(name: string, scope: TokenScope): Promise<{ token: string; info: TokenInfo }> {
    return this.#lock.run(async () => {
      const list = this.#list();
      if (list.length >= MAX_TOKENS) throw new RangeError(`at most ${MAX_TOKENS} API tokens; revoke some first`);
      const id = randomBytes(8).toString("hex");
      const token = `qxt_${id}_${randomBytes(32).toString("base64url")}`;
      const info: TokenInfo = { id, name, scope, createdAt: new Date(this.options.now?.() ?? Date.now()).toISOString() };
      await this.#save([...list, { ...info, sha256: sha256(token).toString("hex") }]);
      return { token, info };
    });
  }

  /** Revokes token `id`; false when there is none. The token is dead (in memory and on disk) when this returns. */
  revokeToken(id: string): Promise<boolean> {
    return this.#lock.run(async () => {
      const list = this.#list();
      const next = list.filter((t) => t.id !== id);
      if (next.length === list.length) return false;
      await this.#save(next);
      return true;
    });
  }

  /** Revokes every API token; returns how many there were. */
  revokeAllTokens(): Promise<number> {
    return this.#lock.run(async () => {
      const n = this.#list().length;
      if (n > 0) await this.#save([]);
      return n;
    });
  }

  /**
   * Writes the new list and then serves it. A shrinking list (a revoke) is served at
   * once, so the token is refused while its removal is being written; if the write
   * fails, memory goes back to what is on disk and the caller gets the error.
   */
  async #save(next: StoredToken[]): Promise<void> {
    const before = this.#list();
    const shrinking = next.length < before.length;
    if (shrinking) this.#tokens = next;
    try {
      await this.#write(this.tokensPath, { tokens: next });
    } catch (e) {
      if (shrinking) this.#tokens = before;
      throw e;
    }
    this.#tokens = next;
  }

  /** The token's info when `token` is a live API token, else null. */
  verifyToken(token: string): TokenInfo | null {
    const m = TOKEN_RE.exec(token);
    if (!m) return null;
    const t = this.#list().find((x) => x.id === m[1]);
    if (!t) return null;
    const expected = Buffer.from(t.sha256, "hex");
    if (!timingSafeEqual(expected, sha256(token))) return null;
    const { sha256: _, ...info } = t;
    return info;
  }
}
