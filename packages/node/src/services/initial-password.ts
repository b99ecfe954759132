/**
 * @module services/initial-password
 * Secure by default: a node never serves its API with no admin password and never
 * with a known one. When `/quantix/auth/admin.json` is missing at start (first boot,
 * and the DCUI has not set a password), qx-node makes a random password, stores its
 * hash, writes it to `/run/quantix/initial-admin-password` (0600, RAM only, gone at
 * the next reboot) and prints it once on the system console. The admin should change
 * it after logging in (PUT /api/v1/auth/password, or from the DCUI).
 *
 * @example
 * ```ts
 * const r = await ensureAdminPassword(store, { root: "/" }); // { created: true, password: "..." } on first start
 * ```
 */
import { randomInt } from "node:crypto";
import { promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "@quantix/core";
import type { AuthStore } from "./auth-store.ts";

export const INITIAL_PASSWORD_FILE = "run/quantix/initial-admin-password";

/** Letters and digits without look-alikes (0/O, 1/l/I). */
const ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/** Four dash-separated groups of five characters (~117 bits). */
export function randomPassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let s = "";
    for (let i = 0; i < 5; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    groups.push(s);
  }
  return groups.join("-");
}

export interface InitialPasswordOptions {
  readonly root: string;
  /** Prints the password once for the person at the console (default: writes to ROOT/dev/console). */
  readonly announce?: (text: string) => Promise<void>;
}

async function toConsole(root: string, text: string): Promise<void> {
  try {
    await fs.writeFile(join(root, "dev/console"), text, { flag: "r+" }); // never creates the file
  } catch {
    // No console (a container, a test): the file in /run/quantix is the way to read it.
  }
}

/** Creates the random initial password when the admin has none; says whether it did. */
export async function ensureAdminPassword(store: AuthStore, o: InitialPasswordOptions): Promise<{ created: boolean; file: string | null }> {
  if (await store.hasAdmin()) return { created: false, file: null };
  const password = randomPassword();
  await store.setAdminPassword(password);
  const file = join(o.root, INITIAL_PASSWORD_FILE);
  await fs.mkdir(dirname(file), { recursive: true, mode: 0o755 });
  await writeFileAtomic(file, `${password}\n`, { mode: 0o600 });
  const text =
    `\r\nQuantix-OS: initial web UI / API password for user "admin": ${password}\r\n` +
    `  (also in /run/quantix/initial-admin-password until reboot; change it after logging in)\r\n\r\n`;
  await (o.announce ?? ((t) => toConsole(o.root, t)))(text);
  return { created: true, file };
}

/** Forgets the initial password file (after the admin set their own). */
export async function removeInitialPassword(root: string): Promise<void> {
  await fs.rm(join(root, INITIAL_PASSWORD_FILE), { force: true });
}
