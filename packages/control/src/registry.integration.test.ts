/**
 * Integration: a real etcd member (mTLS from a cluster CA) on loopback; 50 simultaneous
 * joins against a token limited to 10 uses, bad tokens and names refused, nothing half-registered.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type RunningMember, startMember, waitHealthy } from "./etcd/member.ts";
import { Store } from "./etcd/store.ts";
import type { ControlError } from "./errors.ts";
import { EventLog } from "./events.ts";
import { KEYS } from "./model.ts";
import { type KeyPairPem, createCa, createCsr, issue } from "./pki.ts";
import { Registry } from "./registry.ts";
import { JoinTokens } from "./tokens.ts";

const port = 20000 + Math.floor(Math.random() * 20000);
let dir: string;
let member: RunningMember;
let store: Store;
let ca: KeyPairPem;

describe("control registry on a real etcd (integration)", () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "qx-etcd-"));
    ca = await createCa("test");
    const pair = await issue(ca, { commonName: "etcd-0", dns: ["localhost"], ips: ["127.0.0.1"], usage: ["server", "client"], days: 1 });
    for (const [n, v] of [["ca.crt", ca.certPem], ["etcd.crt", pair.certPem], ["etcd.key", pair.keyPem]] as const) writeFileSync(join(dir, n), v);
    const peerUrl = `https://127.0.0.1:${port + 1}`;
    const clientUrl = `https://127.0.0.1:${port}`;
    member = startMember({
      name: "m0",
      dataDir: join(dir, "data"),
      peerUrl,
      clientUrl,
      initialCluster: { m0: peerUrl },
      state: "new",
      clusterToken: "t",
      tls: { caFile: join(dir, "ca.crt"), certFile: join(dir, "etcd.crt"), keyFile: join(dir, "etcd.key") },
    });
    const tls = { caPem: ca.certPem, certPem: pair.certPem, keyPem: pair.keyPem };
    await waitHealthy(clientUrl, tls).catch((e) => {
      throw new Error(`${(e as Error).message}\n${member.log()}`);
    });
    store = Store.connect({ endpoints: [clientUrl], tls });
  });
  after(async () => {
    store?.close();
    await member?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("50 simultaneous joins on a token limited to 10: exactly 10 nodes registered, the rest told the token is used up", async () => {
    const tokens = new JoinTokens(store);
    const reg = new Registry(store, tokens, new EventLog(store), () => ca, () => "test", "r0");
    const { token } = await tokens.create({ description: "rack 1", ttlSeconds: 3600, usageLimit: 10, createdBy: "test" });
    const csrs = await Promise.all(Array.from({ length: 50 }, (_, i) => createCsr(`node-${i}`)));
    const results = await Promise.allSettled(
      csrs.map((c, i) => reg.join({ token, hostname: `node-${i}`, nodeId: randomUUID(), csr: c.csrPem, addresses: [], time: new Date().toISOString(), replace: false })),
    );
    const ok = results.filter((r) => r.status === "fulfilled");
    const bad = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(ok.length, 10);
    for (const r of bad) assert.equal((r.reason as ControlError).code, "TOKEN_USED_UP", String(r.reason));
    assert.equal(await store.count(KEYS.nodes), 10);
    assert.equal(await store.count("node-names/"), 10);
    const view = (await tokens.list())[0];
    assert.equal(view?.uses, 10);
    assert.equal(view?.state, "used-up");
  });

  it("refuses malformed, unknown, revoked and expired tokens, a taken host name and a CSR for another name; nothing is written", async () => {
    const tokens = new JoinTokens(store);
    const reg = new Registry(store, tokens, new EventLog(store), () => ca, () => "test", "r0");
    const before = await store.count(KEYS.nodes);
    const csr = await createCsr("node-0");
    const req = (t: string, hostname = "node-0") => ({ token: t, hostname, nodeId: randomUUID(), csr: csr.csrPem, addresses: [], time: new Date().toISOString(), replace: false });
    await assert.rejects(reg.join(req("ABC-1")), (e: ControlError) => e.code === "TOKEN_MALFORMED" && e.status === 400);
    await assert.rejects(reg.join(req("aaaaaa.bbbbbbbbbbbbbbbb")), (e: ControlError) => e.code === "TOKEN_UNKNOWN" && e.status === 401);
    const { token } = await tokens.create({ description: "", ttlSeconds: 60, usageLimit: null, createdBy: "test" });
    const taken = (await reg.list())[0]?.hostname ?? "";
    const takenCsr = await createCsr(taken);
    await assert.rejects(reg.join({ ...req(token, taken), csr: takenCsr.csrPem }), (e: ControlError) => e.code === "HOSTNAME_TAKEN" && e.message.includes(taken) && e.hint?.includes(`qxctl node remove ${taken}`) === true);
    await assert.rejects(reg.join(req(token, "node-99")), (e: ControlError) => e.code === "CSR_NAME");
    const expired = await tokens.create({ description: "", ttlSeconds: 60, usageLimit: null, createdBy: "test" }, new Date(Date.now() - 120_000));
    await assert.rejects(reg.join(req(expired.token, "node-99")), (e: ControlError) => e.code === "TOKEN_EXPIRED" && /expired at/.test(e.message));
    await tokens.revoke(token);
    await assert.rejects(reg.join(req(token, "node-99")), (e: ControlError) => e.code === "TOKEN_REVOKED");
    assert.equal(await store.count(KEYS.nodes), before);
  });
});
