import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RateLimitError, UnauthorizedError } from "../api/http-errors.ts";
import { type AuthService, createAuthService } from "./auth.ts";
import { AuthStore } from "./auth-store.ts";

const COST = { logN: 10, r: 8, p: 1 };
const PASSWORD = "the-right-password";

describe("login limits (services/auth)", () => {
  let dir = "";
  let t = 1_000_000;
  let auth: AuthService;
  let checks = 0;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-authsvc-"));
    auth = await createAuthService({ dir, now: () => t, cost: COST });
    await auth.store.setAdminPassword(PASSWORD);
    const verify = auth.store.verifyAdmin.bind(auth.store);
    auth.store.verifyAdmin = (u, p) => {
      checks++;
      return verify(u, p);
    };
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const attempt = async (address: string, password: string, device?: string, user = "admin") => {
    try {
      return { ok: true as const, r: await auth.login(address, user, password, device) };
    } catch (e) {
      if (e instanceof RateLimitError) return { ok: false as const, status: 429, retry: e.retryAfterSeconds };
      if (e instanceof UnauthorizedError) return { ok: false as const, status: 401 };
      throw e;
    }
  };

  it("60 parallel wrong logins from one address: at most 5 passwords are checked", async () => {
    checks = 0;
    const rs = await Promise.all(Array.from({ length: 60 }, (_, i) => attempt("198.51.100.1", `wrong-${i}`)));
    assert.equal(checks, 5, "passwords checked");
    assert.equal(rs.filter((r) => !r.ok && r.status === 401).length, 5);
    assert.equal(rs.filter((r) => !r.ok && r.status === 429).length, 55);
  });

  it("the back-off grows with each failure and the right password gets in once it has passed (no fixed lock-out)", async () => {
    const a = "198.51.100.2";
    for (let i = 0; i < 5; i++) assert.equal((await attempt(a, "wrong")).ok, false);
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const blocked = await attempt(a, "wrong");
      assert.equal(blocked.ok, false);
      waits.push((blocked as { retry: number }).retry);
      t += waits[i]! * 1000;
      assert.equal((await attempt(a, "wrong")).ok, false);
    }
    assert.deepEqual(waits, [1, 2, 4, 8]);
    t += 16_000;
    assert.equal((await attempt(a, PASSWORD)).ok, true, "the right password once the wait is over");
    assert.equal((await attempt(a, "wrong")).ok, false);
    assert.equal((await attempt(a, PASSWORD)).ok, true, "a success cleared the record");
  });

  it("an attacker behind the admin's NAT address does not lock out the admin's browser (device token)", async () => {
    const nat = "203.0.113.9";
    const first = await attempt(nat, PASSWORD);
    assert.ok(first.ok);
    const device = first.r.device;
    assert.match(device, /^qxd_[0-9a-f]{16}_/);
    for (let i = 0; i < 40; i++) await attempt(nat, `guess-${i}`);
    assert.equal((await attempt(nat, PASSWORD)).ok, false, "a new browser at that address must wait");
    const trusted = await attempt(nat, PASSWORD, device);
    assert.ok(trusted.ok, "the browser with its device token gets in at once");
    assert.equal(trusted.r.device, device, "and keeps its device token");
    assert.equal((await attempt(nat, PASSWORD, "qxd_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")).ok, false, "a forged device token counts as none");
  });

  it("a device token is limited on its own: 5 failures, then it waits too", async () => {
    const r = await attempt("192.0.2.50", PASSWORD);
    assert.ok(r.ok);
    for (let i = 0; i < 5; i++) assert.equal((await attempt("192.0.2.51", "nope", r.r.device)).status, 401);
    assert.equal((await attempt("192.0.2.52", PASSWORD, r.r.device)).status, 429, "wherever it comes from");
  });

  it("one address spraying user names is slowed down as a whole after 20 failures", async () => {
    const a = "198.51.100.77";
    for (let i = 0; i < 20; i++) assert.equal((await attempt(a, "x", undefined, `user${i}`)).status, 401);
    assert.equal((await attempt(a, PASSWORD)).status, 429);
  });

  it("a password reset at the console ends every lock-out and every session, and a login racing it gets a dead session", async () => {
    const a = "198.51.100.99";
    for (let i = 0; i < 6; i++) await attempt(a, "wrong");
    const s = await attempt("192.0.2.99", PASSWORD);
    assert.ok(s.ok);
    assert.ok(auth.principalFor(`Bearer ${s.r.token}`));
    const r = await auth.changePassword("a-new-password!");
    assert.ok(r && r.sessionsEnded >= 1);
    assert.equal(auth.principalFor(`Bearer ${s.r.token}`), null);
    assert.ok((await attempt(a, "a-new-password!")).ok, "the locked address may log in at once");
    // A password written by another process (qx-node set-admin-password without the daemon's socket):
    const s2 = await attempt("192.0.2.99", "a-new-password!");
    assert.ok(s2.ok);
    await new AuthStore(dir, { cost: COST }).setAdminPassword(PASSWORD);
    assert.equal(auth.principalFor(`Bearer ${s2.r.token}`), null, "sessions die with the admin.json they were opened under");
  });
});
