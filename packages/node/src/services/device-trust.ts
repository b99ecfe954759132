/**
 * @module services/device-trust
 * Device tokens, so that guessing from an address never locks the admin out of a
 * browser they have logged in with before (OWASP's "device cookies"). A successful
 * login returns a device token, `qxd_<16 hex id>_<HMAC>`, bound to the user name by
 * an HMAC under a key kept in `/quantix/auth/device.key` (0600). A login that presents
 * a valid device token is limited under that device's own key, not under its address:
 * a flood of wrong passwords from the same NAT address does not slow it down.
 *
 * A device token is no credential: it grants no access, only a separate allowance of
 * password attempts (the same 5 + growing back-off). Rotating the key
 * ({@link DeviceTrust.forgetAll}) makes every device a stranger again.
 *
 * @example
 * ```ts
 * const trust = await DeviceTrust.open("/quantix/auth");
 * const token = trust.issue("admin");
 * trust.verify(token, "admin"); // the device id, or null
 * ```
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@quantix/core";

const TOKEN_RE = /^qxd_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export class DeviceTrust {
  private constructor(
    private readonly path: string,
    private key: Buffer,
  ) {}

  /** Loads the key (made on first use). */
  static async open(dir: string): Promise<DeviceTrust> {
    const path = join(dir, "device.key");
    let key = await fs.readFile(path).catch(() => null);
    if (key?.length !== 32) {
      key = randomBytes(32);
      await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, key, { mode: 0o600 });
    }
    return new DeviceTrust(path, key);
  }

  #mac(id: string, user: string): Buffer {
    return createHmac("sha256", this.key).update(`device:${id}:${user}`).digest();
  }

  /** A new device token for `user`. */
  issue(user: string): string {
    const id = randomBytes(8).toString("hex");
    return `qxd_${id}_${this.#mac(id, user).toString("base64url")}`;
  }

  /** The device id when `token` is a device token this node issued for `user`, else null. */
  verify(token: string | undefined, user: string): string | null {
    const m = TOKEN_RE.exec(token ?? "");
    if (!m) return null;
    const given = Buffer.from(m[2] as string, "base64url");
    const want = this.#mac(m[1] as string, user);
    return given.length === want.length && timingSafeEqual(given, want) ? (m[1] as string) : null;
  }

  /** A new key: every device token issued so far is worthless. */
  async forgetAll(): Promise<void> {
    const key = randomBytes(32);
    await writeFileAtomic(this.path, key, { mode: 0o600 });
    this.key = key;
  }
}
