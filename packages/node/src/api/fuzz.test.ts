import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "./test-server.ts";

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MALFORMED = ["{", "[1,2", "}", "nul", "\u0000\u0001", '{"a":1,}', '{"a":1}{"b":2}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', `${"[".repeat(5000)}${"]".repeat(5000)}`, '"just a string"', "12345678901234567890e999", "null", "[]", "true"];
const WRONG = [null, true, 0, -1, 1e308, -0, "", " ", [], [[]], {}, { a: { b: { c: [] } } }, "\u202e\u0000", "x".repeat(60_000), Number.MAX_SAFE_INTEGER + 2];
const TRAVERSAL = ["..", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fshadow", "....//....//etc", "%00", "qx-node%00.log", "a%2fb", "%c0%ae%c0%ae%2f", "con", "x".repeat(3000), "%ff%fe", "kernel%0d%0aSet-Cookie:%20x=y", encodeURIComponent("\u00e9t\u00e9"), "%u002e%u002e"];

describe("fuzz: malformed JSON, wrong types, huge strings, path traversal", () => {
  let n: TestNode;
  let admin = "";
  const ops: { method: string; path: string; body: Record<string, unknown> | null }[] = [];
  const seen = new Map<number, number>();
  before(async () => {
    n = await startTestNode({ "var/log/quantix/qx-node.log": "a\n" });
    admin = (await n.srv.auth.store.createToken("fuzz", "admin")).token;
    const doc = await n.call("GET", "/api/v1/openapi.json", { token: admin });
    for (const [path, methods] of Object.entries(doc.json.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [method, op] of Object.entries(methods)) {
        if (path === "/api/v1/auth/session" || path.endsWith("/follow")) continue; // would log the fuzzer out / stream forever
        const body = (op["requestBody"] as { content: Record<string, { schema: Record<string, unknown> }> } | undefined)?.content["application/json"]?.schema ?? null;
        ops.push({ method: method.toUpperCase(), path, body });
      }
    }
  });
  after(() => n.close());

  /** Every answer must be a well-formed non-5xx (501 only where the updater is missing). */
  async function probe(method: string, url: string, o: Parameters<TestNode["call"]>[2]): Promise<void> {
    const r = await n.call(method, url, { token: admin, ...o });
    seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
    const allowed501 = r.status === 501 && url.startsWith("/api/v1/update");
    assert.ok(r.status < 500 || allowed501, `${method} ${url} ${JSON.stringify(o).slice(0, 200)} → ${r.status} ${r.text.slice(0, 300)}`);
    if (r.status >= 400) assert.equal(typeof r.json?.message, "string", `${method} ${url}: error without a message: ${r.text.slice(0, 200)}`);
  }

  const urlOf = (path: string, value: string) => path.replace(/\{\w+\}/g, value);

  it("malformed JSON bodies are 400, never 5xx", async () => {
    for (const op of ops.filter((o) => o.method !== "GET" && o.method !== "DELETE")) {
      for (const raw of MALFORMED) await probe(op.method, urlOf(op.path, "libvirtd"), { raw, headers: { "content-type": "application/json" } });
    }
  });

  it("wrong types and huge strings in every field of every body", async () => {
    for (const op of ops.filter((o) => o.body)) {
      const props = Object.keys((op.body?.["properties"] as Record<string, unknown>) ?? {});
      for (const prop of [...props, "unexpected"]) {
        for (const v of WRONG) await probe(op.method, urlOf(op.path, "libvirtd"), { body: { [prop]: v } });
      }
      for (const v of WRONG) await probe(op.method, urlOf(op.path, "libvirtd"), { raw: JSON.stringify(v), headers: { "content-type": "application/json" } });
    }
  });

  it("path traversal and junk in path parameters and queries", async () => {
    for (const op of ops.filter((o) => o.path.includes("{"))) {
      for (const t of TRAVERSAL) await probe(op.method, urlOf(op.path, t), op.method === "GET" ? {} : { body: {} });
    }
    for (const q of ["lines=-1", "lines=abc", "lines=1e309", "lines=99999999", "lines=1&lines=2", "x=1", "lines=%00", `lines=${"9".repeat(5000)}`]) {
      await probe("GET", `/api/v1/logs/qx-node?${q}`, {});
    }
    await probe("GET", "/api/v1/logs/..%2f..%2f..%2fetc%2fpasswd", {});
    const r = await n.call("GET", "/api/v1/logs/..%2f..%2fetc%2fpasswd", { token: admin });
    assert.doesNotMatch(r.text, /root:/);
  });

  it("random bodies from a seeded generator (seed 6)", async () => {
    const rand = prng(6);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    const atom = (): unknown => (rand() < 0.5 ? pick(WRONG) : pick(["dhcp", "static", "admin", "read", "reboot", "eth0", "10.0.0.1/24", "10.0.0.1"]));
    const value = (depth: number): unknown => {
      if (depth > 2 || rand() < 0.5) return atom();
      if (rand() < 0.5) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(rand() * 4) }, () => [pick(["mode", "address", "hostname", "enabled", "confirm", "scope", "name", "password", "current", "x"]), value(depth + 1)]));
    };
    const writable = ops.filter((o) => o.method !== "GET" && !o.path.includes("power") && !o.path.includes("password"));
    for (let i = 0; i < 300; i++) {
      const op = pick(writable);
      await probe(op.method, urlOf(op.path, pick(["libvirtd", "ssh", "0123456789abcdef", "zz"])), { body: value(0) });
    }
  });

  it("the server is still alive and healthy afterwards", async () => {
    const h = await n.call("GET", "/api/v1/health");
    assert.equal(h.status, 200);
    assert.ok((seen.get(400) ?? 0) > 100, `statuses: ${JSON.stringify([...seen])}`);
  });
});
