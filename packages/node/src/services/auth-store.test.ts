import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { AuthStore } from "./auth-store.ts";
import { hashPassword, verifyPassword } from "./password-hash.ts";
import { LoginLimiter } from "./rate-limit.ts";
import { SessionStore } from "./sessions.ts";

const COST = { logN: 10, r: 8, p: 1 };

describe("auth storage", () => {
  it("scrypt hashes verify, reject a wrong password and a malformed hash", async () => {
    const h = await hashPassword("correct horse", COST);
    assert.match(h, /^scrypt\$10\$8\$1\$/);
    assert.equal(await verifyPassword("correct horse", h), true);
    assert.equal(await verifyPassword("correct horsE", h), false);
    assert.equal(await verifyPassword("x", "scrypt$99$8$1$AA==$AA=="), false);
    assert.equal(await verifyPassword("x", "md5$abc"), false);
  });

  it("a broken tokens.json is set aside instead of keeping the API down; a broken admin.json reads as unset", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qx-auth-"));
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "tokens.json"), "{not json");
      await writeFile(join(dir, "admin.json"), "garbage");
      const store = new AuthStore(dir, { cost: COST });
      await store.loadTokens();
      assert.deepEqual(store.listTokens(), []);
      assert.equal(await readFile(join(dir, "tokens.json.bad"), "utf8"), "{not json");
      assert.equal(await store.hasAdmin(), false);
      const { token } = await store.createToken("x", "read");
      assert.equal((await stat(join(dir, "tokens.json"))).mode & 0o777, 0o600);
      assert.equal(store.verifyToken(token)?.scope, "read");
      // One character changed (never to itself: a token ending in "A" made this flaky).
      assert.equal(store.verifyToken(`${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`), null);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("sessions expire when idle and at their maximum age, and die with the admin generation they were opened under", () => {
    let t = 0;
    const s = new SessionStore(() => t, { idleMs: 100, maxMs: 250 });
    const { token } = s.create("g1");
    t = 90;
    assert.ok(s.verify(token, "g1"));
    t = 180;
    assert.ok(s.verify(token, "g1"), "idle time counts from the last use");
    t = 260;
    assert.equal(s.verify(token, "g1"), null, "past the maximum age");
    const b = s.create("g1").token;
    t = 400;
    assert.equal(s.verify(b, "g1"), null, "idle too long");
    const c = s.create("g1").token;
    assert.equal(s.verify(c, "g2"), null, "the password was set again");
    assert.equal(s.verify(c, "g1"), null, "and the session is gone for good");
  });

  it("the login limiter: free attempts, then a growing back-off from the last failure; a success forgets", () => {
    let t = 0;
    const l = new LoginLimiter(() => t, { attempts: 2, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 4000, maxTracked: 10 });
    const a = [{ key: "a" }];
    l.reserve(a).failed();
    l.reserve(a).failed();
    assert.throws(() => l.reserve(a), /try again in 1 s/);
    l.reserve([{ key: "b" }]).failed();
    t = 1000;
    l.reserve(a).failed(); // third failure at t=1000: the next waits 2 s
    t = 2500;
    assert.throws(() => l.reserve(a), /try again in 1 s/);
    t = 3000;
    l.reserve(a).failed(); // fourth at 3000: 4 s (the cap)
    t = 6999;
    assert.throws(() => l.reserve(a), /try again in 1 s/);
    t = 7000;
    l.reserve(a).failed(); // fifth: still the 4 s cap
    assert.throws(() => l.reserve(a), /try again in 4 s/);
    t = 11_000;
    l.reserve(a).succeeded();
    l.reserve(a).failed();
    l.reserve(a).failed();
    assert.throws(() => l.reserve(a));
    l.clear();
    l.reserve(a).cancel();
    l.reserve(a).failed();
    l.reserve(a).failed();
    assert.throws(() => l.reserve(a), "a cancelled reservation is not counted, the others are");
    t = 200_000;
    l.reserve(a).failed();
  });

  it("an attempt counts the moment it is let through: 60 at once, 5 get past, before any of them is settled", () => {
    const l = new LoginLimiter(() => 0);
    let through = 0;
    const held = [];
    for (let i = 0; i < 60; i++) {
      try {
        held.push(l.reserve([{ key: "user:admin@192.0.2.7" }]));
        through++;
      } catch {}
    }
    assert.equal(through, 5);
    for (const h of held) h.failed();
  });

  it("a key's allowance can differ (the per-address key allows four times a user's)", () => {
    const l = new LoginLimiter(() => 0);
    for (let i = 0; i < 20; i++) l.reserve([{ key: `user:u${i}@a` }, { key: "addr:a", attempts: 20 }]).failed();
    assert.throws(() => l.reserve([{ key: "user:fresh@a" }, { key: "addr:a", attempts: 20 }]));
    l.reserve([{ key: "user:admin@b" }, { key: "addr:b", attempts: 20 }]).failed();
  });
});
