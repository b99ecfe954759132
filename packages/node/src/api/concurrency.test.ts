/**
 * The concurrency tier: every write path of qx-node hit by N ≥ 50 parallel requests
 * over the real HTTPS listener. No request may get a 5xx, the files must parse after
 * each burst, and every 2xx must be true afterwards (a created token works, a revoked
 * one is dead, a stored setting is in the file).
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { isAtomicWriteLeftover, NetworkConfig, NodeConfig, parseYaml } from "@quantix/core";
import type { z } from "zod";
import { type Answer, startTestNode, type TestNode } from "./test-server.ts";

const N = 60;
const NODE_YAML = `# This node.\nnode_id: "550e8400-e29b-41d4-a716-446655440000"\nhostname: "quantix-01"\n`;
const NETWORK_YAML = `# Management network.\nmanagement:\n  interface: "eth0"\n  mode: "dhcp"\n`;

const statuses = (rs: Answer[]) => {
  const m: Record<number, number> = {};
  for (const r of rs) m[r.status] = (m[r.status] ?? 0) + 1;
  return m;
};
const no5xx = (rs: Answer[], what: string) => {
  const bad = rs.filter((r) => r.status >= 500);
  assert.equal(bad.length, 0, `${what}: ${JSON.stringify(statuses(rs))}; first 5xx: ${bad[0]?.text}`);
};

describe("concurrency: every write path under parallel requests", () => {
  let n: TestNode;
  before(async () => {
    n = await startTestNode(
      { "quantix/node.yaml": NODE_YAML, "quantix/network.yaml": NETWORK_YAML, "etc/hostname": "quantix-01\n" },
      // The sessions burst logs in 60 times from one address: more than the login limit allows.
      { loginLimit: { attempts: 1000, windowMs: 60_000, baseDelayMs: 1000, maxDelayMs: 60_000, maxTracked: 100 } },
    );
  });
  after(() => n.close());

  const parse = async <S extends typeof NodeConfig | typeof NetworkConfig>(file: string, schema: S) => {
    const text = await readFile(join(n.root, "quantix", file), "utf8");
    const r = schema.safeParse(parseYaml(file, text).toJS());
    assert.ok(r.success, `${file} is valid after the burst:\n${text}`);
    return { text, value: r.data as z.output<S> };
  };
  const noLeftovers = async () => assert.deepEqual((await readdir(join(n.root, "quantix"))).filter(isAtomicWriteLeftover), []);

  it(`${N} parallel renames: all 200, node.yaml valid with its comment, and node.yaml, /etc/hostname and the kernel agree`, async () => {
    const names = Array.from({ length: N }, (_, i) => `lab-${i}`);
    const rs = await Promise.all(names.map((hostname) => n.call("PUT", "/api/v1/node", { token: n.admin, body: { hostname } })));
    no5xx(rs, "PUT /api/v1/node");
    assert.deepEqual(statuses(rs), { 200: N });
    const { text, value } = await parse("node.yaml", NodeConfig);
    assert.match(text, /^# This node\./);
    assert.ok(names.includes(value.hostname as string));
    assert.equal((await readFile(join(n.root, "etc/hostname"), "utf8")).trim(), value.hostname);
    assert.equal(await readFile(join(n.root, "proc/sys/kernel/hostname"), "utf8"), value.hostname);
    await noLeftovers();
  });

  it(`${N} parallel join-settings writes: all 200; node.yaml holds one request whole (URL and token of the same one)`, async () => {
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        n.call("PUT", "/api/v1/node/join", {
          token: n.admin,
          body: { cluster_url: `https://cp-${i}.example:6443`, join_token: `abc${String(i).padStart(3, "0")}.0123456789abcdef` },
        }),
      ),
    );
    no5xx(rs, "PUT /api/v1/node/join");
    assert.deepEqual(statuses(rs), { 200: N });
    const { value } = await parse("node.yaml", NodeConfig);
    const i = /cp-(\d+)\./.exec(value.cluster_url ?? "")?.[1];
    assert.ok(i !== undefined);
    assert.equal(value.join_token, `abc${i.padStart(3, "0")}.0123456789abcdef`);
    await noLeftovers();
  });

  it(`${N} parallel bridge additions and VM networks: every 201 is in network.yaml, which stays valid`, async () => {
    const bridges = await Promise.all(
      Array.from({ length: 30 }, (_, i) => n.call("POST", "/api/v1/networks/bridges", { token: n.admin, body: { name: `br${i}`, uplinks: [], datapath: "netdev" } })),
    );
    no5xx(bridges, "POST /api/v1/networks/bridges");
    const nets = await Promise.all(
      Array.from({ length: N }, (_, i) => n.call("POST", "/api/v1/networks", { token: n.admin, body: { name: `net${i}`, bridge: `br${i % 30}`, vlan: 10 + i } })),
    );
    no5xx(nets, "POST /api/v1/networks");
    const { value } = await parse("network.yaml", NetworkConfig);
    const made = (rs: Answer[], names: (i: number) => string) => rs.flatMap((r, i) => (r.status === 201 ? [names(i)] : []));
    const madeBridges = made(bridges, (i) => `br${i}`);
    const madeNets = made(nets, (i) => `net${i}`);
    assert.ok(madeBridges.length > 0 && madeNets.length > 0, `${JSON.stringify(statuses(bridges))} ${JSON.stringify(statuses(nets))}`);
    assert.deepEqual(value.bridges?.map((b) => b.name).sort(), madeBridges.sort());
    assert.deepEqual(value.networks?.map((x) => x.name).sort(), madeNets.sort());
    await noLeftovers();
  });

  it(`${N} parallel management-network changes: one goes on trial, the others are 409; network.yaml is the one that won`, async () => {
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        n.call("PUT", "/api/v1/network", { token: n.admin, body: { interface: "eth0", mode: "static", address: `192.0.2.${i + 1}/24` } }),
      ),
    );
    no5xx(rs, "PUT /api/v1/network");
    const won = rs.filter((r) => r.status < 300);
    assert.equal(won.length, 1, JSON.stringify(statuses(rs)));
    assert.equal(rs.filter((r) => r.status === 409).length, N - 1);
    const { value } = await parse("network.yaml", NetworkConfig);
    assert.equal(value.management.address, `192.0.2.${rs.indexOf(won[0] as Answer) + 1}/24`);
    assert.equal(value.bridges?.length, 30, "the bridges written before are still there");
  });

  it(`${N} parallel token creations: all 201, every one works and is listed`, async () => {
    const rs = await Promise.all(Array.from({ length: N }, (_, i) => n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: `t${i}`, scope: "read" } })));
    no5xx(rs, "POST /api/v1/auth/tokens");
    assert.deepEqual(statuses(rs), { 201: N });
    const works = await Promise.all(rs.map((r) => n.call("GET", "/api/v1/auth/whoami", { token: r.json.token })));
    assert.deepEqual(statuses(works), { 200: N });
    const listed = new Set((await n.call("GET", "/api/v1/auth/tokens", { token: n.admin })).json.map((t: { id: string }) => t.id));
    for (const r of rs) assert.ok(listed.has(r.json.id), `token ${r.json.id} is listed`);
    const onDisk = JSON.parse(await readFile(join(n.root, "quantix/auth/tokens.json"), "utf8")).tokens.map((t: { id: string }) => t.id);
    assert.deepEqual(new Set(onDisk), listed);
    // Back to a few tokens for the next tests (at most 100 may exist).
    const del = await Promise.all(rs.map((r) => n.call("DELETE", `/api/v1/auth/tokens/${r.json.id}`, { token: n.admin })));
    assert.deepEqual(statuses(del), { 200: N });
  });

  it("a revoke beside parallel creations stays revoked (10 trials, 10 creations each)", async () => {
    for (let trial = 0; trial < 10; trial++) {
      const victim = await n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: "victim", scope: "admin" } });
      assert.equal(victim.status, 201);
      const [revoke, ...created] = await Promise.all([
        n.call("DELETE", `/api/v1/auth/tokens/${victim.json.id}`, { token: n.admin }),
        ...Array.from({ length: 10 }, (_, i) => n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: `c${i}`, scope: "read" } })),
      ]);
      assert.equal(revoke?.status, 200);
      assert.equal((await n.call("GET", "/api/v1/auth/whoami", { token: victim.json.token })).status, 401, `trial ${trial}: the revoked token is dead`);
      const list = (await n.call("GET", "/api/v1/auth/tokens", { token: n.admin })).json as { id: string }[];
      assert.ok(!list.some((t) => t.id === victim.json.id), `trial ${trial}: the revoked token is not listed`);
      for (const c of created) {
        assert.equal(c.status, 201);
        assert.equal((await n.call("GET", "/api/v1/auth/whoami", { token: c.json.token })).status, 200);
      }
      // The store as a fresh qx-node would load it agrees.
      const onDisk = JSON.parse(await readFile(join(n.root, "quantix/auth/tokens.json"), "utf8")).tokens as { id: string }[];
      assert.ok(!onDisk.some((t) => t.id === victim.json.id));
      const all = await n.call("DELETE", "/api/v1/auth/tokens", { token: n.admin });
      assert.equal(all.status, 200);
    }
    assert.equal((await n.call("GET", "/api/v1/auth/whoami", { token: n.reader })).status, 401, "revoke-all revoked the reader token too");
  });

  it(`${N} parallel logins, then ${N} parallel logouts: every session works until its own logout`, async () => {
    const logins = await Promise.all(Array.from({ length: N }, () => n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: n.password } })));
    no5xx(logins, "POST /api/v1/auth/login");
    assert.deepEqual(statuses(logins), { 200: N });
    const tokens = logins.map((r) => r.json.token as string);
    const half = tokens.slice(0, N / 2);
    const outs = await Promise.all(half.map((token) => n.call("DELETE", "/api/v1/auth/session", { token })));
    assert.deepEqual(statuses(outs), { 200: N / 2 });
    const after = await Promise.all(tokens.map((token) => n.call("GET", "/api/v1/auth/whoami", { token })));
    assert.deepEqual(after.map((r) => r.status), tokens.map((_, i) => (i < N / 2 ? 401 : 200)));
  });

  it(`${N} parallel password changes from one password: exactly one wins, the rest are told the current one is wrong; every session ends`, async () => {
    const session = (await n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: n.password } })).json.token as string;
    const rs = await Promise.all(
      Array.from({ length: N }, (_, i) => n.call("PUT", "/api/v1/auth/password", { token: session, body: { current: n.password, password: `new-password-${i}` } })),
    );
    no5xx(rs, "PUT /api/v1/auth/password");
    assert.equal(rs.filter((r) => r.status === 200).length, 1, JSON.stringify(statuses(rs)));
    const won = rs.findIndex((r) => r.status === 200);
    for (const r of rs) if (r.status !== 200) assert.ok((r.status === 400 && r.json.field === "body.current") || r.status === 401, `${r.status} ${r.text}`);
    assert.equal((await n.call("GET", "/api/v1/auth/whoami", { token: session })).status, 401);
    const again = await n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: `new-password-${won}` } });
    assert.equal(again.status, 200, "the password that answered 200 is the one in force");
  });
});
