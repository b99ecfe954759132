import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestNode, type TestNode } from "./test-server.ts";

interface Op {
  readonly method: string;
  readonly path: string;
  readonly scope: "public" | "read" | "admin";
  readonly stream: boolean;
  readonly url: string;
}

/** A valid-looking value for a path parameter, from its schema. */
function sample(name: string, schema: { enum?: string[] } | undefined): string {
  if (schema?.enum?.[0]) return schema.enum[0];
  if (name === "id") return "0123456789abcdef";
  if (name === "source") return "qx-node";
  return "x";
}

/** Every operation of the OpenAPI document, with its path parameters filled in. */
function operations(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Op[] {
  const ops: Op[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = (op["parameters"] ?? []) as { name: string; in: string; schema?: { enum?: string[] } }[];
      const url = path.replace(/\{(\w+)\}/g, (_, name: string) => sample(name, params.find((p) => p.name === name)?.schema));
      const content = ((op["responses"] as Record<string, { content?: Record<string, unknown> }>)["200"]?.content ?? {}) as Record<string, unknown>;
      ops.push({ method: method.toUpperCase(), path, scope: op["x-qx-scope"] as Op["scope"], stream: "text/event-stream" in content, url });
    }
  }
  return ops;
}

describe("authorization matrix (every route of the OpenAPI document)", () => {
  let n: TestNode;
  let ops: Op[] = [];
  before(async () => {
    n = await startTestNode({ "var/log/quantix/qx-node.log": "a\n" });
    const doc = await n.call("GET", "/api/v1/openapi.json", { token: n.reader });
    assert.equal(doc.status, 200);
    assert.equal(doc.json.openapi, "3.1.0");
    ops = operations(doc.json);
  });
  after(() => n.close());

  it("documents every route with a scope; only health and login are public; every change needs admin", () => {
    assert.ok(ops.length >= 25, `only ${ops.length} operations`);
    for (const op of ops) assert.ok(["public", "read", "admin"].includes(op.scope), `${op.method} ${op.path}: no x-qx-scope`);
    const pub = ops.filter((o) => o.scope === "public").map((o) => `${o.method} ${o.path}`).sort();
    assert.deepEqual(pub, ["GET /api/v1/health", "POST /api/v1/auth/login"]);
    for (const op of ops) {
      if (op.method !== "GET" && op.scope !== "public" && op.path !== "/api/v1/auth/session") assert.equal(op.scope, "admin", `${op.method} ${op.path}`);
    }
  });

  it("401 without a credential, with a malformed one, and with an unknown token", async () => {
    const bad = [null, "qxs_not-a-session", "qxt_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "Basic YWRtaW46YWRtaW4="];
    for (const op of ops.filter((o) => o.scope !== "public")) {
      for (const token of bad) {
        const headers: Record<string, string> = token?.startsWith("Basic") ? { authorization: token } : {};
        const r = await n.call(op.method, op.url, { token: token?.startsWith("Basic") ? null : token, headers, ...(op.method === "GET" ? {} : { body: {} }) });
        assert.equal(r.status, 401, `${op.method} ${op.url} with ${token ?? "nothing"}: ${r.status} ${r.text}`);
        assert.equal(r.json.error, "UNAUTHORIZED");
      }
    }
  });

  it("403 for a read token on every admin route", async () => {
    for (const op of ops.filter((o) => o.scope === "admin")) {
      const r = await n.call(op.method, op.url, { token: n.reader, ...(op.method === "GET" ? {} : { body: {} }) });
      assert.equal(r.status, 403, `${op.method} ${op.url}: ${r.status} ${r.text}`);
      assert.equal(r.json.error, "FORBIDDEN");
    }
  });

  it("a read token passes authorization on every read route", async () => {
    for (const op of ops.filter((o) => o.scope === "read" && !o.stream && o.method === "GET")) {
      const r = await n.call(op.method, op.url, { token: n.reader });
      assert.ok(![401, 403].includes(r.status), `${op.method} ${op.url}: ${r.status} ${r.text}`);
    }
  });
});
