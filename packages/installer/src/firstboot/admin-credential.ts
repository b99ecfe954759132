/**
 * @module firstboot/admin-credential
 * Admin credential bootstrap: when the installer's answer file carried an admin
 * password hash, the first boot stores it as qx-node's admin account,
 * `/quantix/auth/admin.json` (`{ username: "admin", hash, changedAt }`, 0600 in a 0700
 * directory; qx-node's `services/auth-store.ts` reads it, and a test checks the two
 * agree). An existing admin.json is never replaced: a password set since (DCUI, API)
 * wins. Without a hash nothing is written and qx-node makes a random initial password
 * at its first start, shown once on the console.
 *
 * @example
 * ```ts
 * await ensureAdminCredential({ dir: "/quantix/auth", hash: seed.adminPasswordHash });
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@quantix/core";

export const ADMIN_FILE = "admin.json";
export const ADMIN_USERNAME = "admin";

export interface AdminCredentialOptions {
  /** `/quantix/auth` */
  readonly dir: string;
  /** scrypt hash from the answer file, or undefined. */
  readonly hash: string | undefined;
  readonly now?: () => Date;
}

/** Writes admin.json from the hash when there is none; says what it did. */
export async function ensureAdminCredential(o: AdminCredentialOptions): Promise<{ wrote: boolean; message: string }> {
  const path = join(o.dir, ADMIN_FILE);
  if (!o.hash) return { wrote: false, message: "no admin password hash in the answers: qx-node sets a random initial password" };
  const exists = await fs
    .stat(path)
    .then(() => true)
    .catch(() => false);
  if (exists) return { wrote: false, message: `${path} present (kept)` };
  await fs.mkdir(o.dir, { recursive: true, mode: 0o700 });
  const value = { username: ADMIN_USERNAME, hash: o.hash, changedAt: (o.now?.() ?? new Date()).toISOString() };
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  return { wrote: true, message: `admin password from the answer file stored in ${path}` };
}
