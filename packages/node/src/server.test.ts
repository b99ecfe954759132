import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { checkServerIdentity, connect, createServer, type ConnectionOptions, type PeerCertificate } from "node:tls";
import { pino } from "pino";
import { getLocal } from "./client.ts";
import { type RunningServer, startServer } from "./server.ts";
import type { HealthDocument } from "./services/health.ts";
import type { ConsoleSummary } from "./services/summary.ts";
import { fakeRunner, makeRoot, removeRoot, testContext } from "./test-support.ts";

/** GET over HTTPS trusting only the node's certificate, pinned by its SHA-256 fingerprint. */
function getPinned(port: number, path: string, ca: string, fingerprint: string, token?: string): Promise<{ status: number; body: unknown; peer: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        ca,
        agent: false,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        checkServerIdentity: (host: string, cert: PeerCertificate) => {
          if (cert.fingerprint256 !== fingerprint) return new Error(`pin mismatch: ${cert.fingerprint256}`);
          return checkServerIdentity(host, cert); // and 127.0.0.1 must be a SAN
        },
      },
      (res) => {
        const peer = (res.socket as unknown as { getPeerCertificate(): PeerCertificate }).getPeerCertificate().fingerprint256;
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text), peer });
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Connects with `o`; the protocol and cipher agreed, or the error code. */
function handshake(port: number, o: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const c = connect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...o }, () => {
      resolve(`${c.getProtocol()} ${c.getCipher().name}`);
      c.destroy();
    });
    c.on("error", (e: NodeJS.ErrnoException) => resolve(`refused: ${e.code ?? e.message}`));
  });
}

/** Clients a weak server would accept: a CBC/SHA-1 suite in TLS 1.2, and TLS 1.1. */
const WEAK_CLIENTS: Record<string, ConnectionOptions> = {
  "TLS 1.2 with ECDHE-ECDSA-AES128-SHA (CBC, SHA-1)": { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-SHA" },
  "TLS 1.2 with ECDHE-ECDSA-AES256-SHA384 (CBC)": { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES256-SHA384" },
  "TLS 1.1": { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" },
  "TLS 1.0": { minVersion: "TLSv1", maxVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" },
};

describe("qx-node server", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function serve(root: string, runner = fakeRunner()): Promise<RunningServer> {
    const srv = await startServer({
      ctx: testContext(root, runner),
      host: "127.0.0.1",
      port: 0,
      socketPath: join(root, "run/quantix/qx-node.sock"),
      logger: pino({ level: "silent" }),
      health: { ttlMs: 0 },
    });
    cleanups.push(() => srv.close());
    return srv;
  }
  async function root(files?: Record<string, string>): Promise<string> {
    const r = await makeRoot(files);
    cleanups.push(() => removeRoot(r));
    return r;
  }

  it("answers over HTTPS with its own certificate (pinned); health 200 when all pass", async () => {
    const r = await root();
    const srv = await serve(r);
    const res = await getPinned(srv.port, "/api/v1/health", srv.certificate.certPem, srv.certificate.fingerprint);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.peer, srv.certificate.fingerprint);
    // Without a credential: the state and nothing else (no versions, slot or devices).
    assert.deepEqual(Object.keys(res.body as object).sort(), ["checkedAt", "failing", "status"]);
    assert.equal((res.body as HealthDocument).status, "healthy");
    const { token } = await srv.auth.store.createToken("monitor", "read");
    const full = await getPinned(srv.port, "/api/v1/health", srv.certificate.certPem, srv.certificate.fingerprint, token);
    const doc = full.body as HealthDocument;
    assert.equal(doc.status, "healthy");
    assert.deepEqual(Object.keys(doc.components), ["libvirtd", "ovs", "data", "config", "slot", "version", "boot"]);
    assert.match(srv.certificate.subjectAltName, /DNS:quantix-01, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:192\.0\.2\.10/);
  });

  it("TLS: 1.2 with AEAD suites and 1.3 only; CBC/SHA-1 suites, TLS 1.1 and 1.0 are refused", async () => {
    const srv = await serve(await root());
    // The same clients against a server that allows everything: they do connect, so a refusal below is qx-node's.
    const lax = createServer({ key: srv.certificate.keyPem, cert: srv.certificate.certPem, minVersion: "TLSv1", ciphers: "DEFAULT@SECLEVEL=0" }, (s) => s.end());
    await new Promise<void>((r) => lax.listen(0, "127.0.0.1", r));
    try {
      const laxPort = (lax.address() as { port: number }).port;
      for (const [name, o] of Object.entries(WEAK_CLIENTS)) {
        assert.doesNotMatch(await handshake(laxPort, o), /^refused/, `control: ${name} connects to a lax server`);
        assert.match(await handshake(srv.port, o), /^refused/, `qx-node refuses ${name}`);
      }
    } finally {
      lax.close();
    }
    assert.equal(await handshake(srv.port, { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-AES128-GCM-SHA256" }), "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256");
    assert.equal(await handshake(srv.port, { maxVersion: "TLSv1.2", ciphers: "ECDHE-ECDSA-CHACHA20-POLY1305" }), "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305");
    assert.match(await handshake(srv.port, {}), /^TLSv1\.3 TLS_/);
  });

  it("refuses a client pinned to another fingerprint, and speaks no plain HTTP", async () => {
    const srv = await serve(await root());
    await assert.rejects(getPinned(srv.port, "/api/v1/health", srv.certificate.certPem, "00:11"), /pin mismatch/);
    const plain = await fetch(`http://127.0.0.1:${srv.port}/api/v1/health`).then(
      (r) => r.status,
      () => "refused",
    );
    assert.notEqual(plain, 200);
  });

  it("503 naming the failing components", async () => {
    const r = await root();
    const srv = await serve(r, fakeRunner({ virsh: { exitCode: 1, stderr: "error: failed to connect to the hypervisor" } }));
    const res = await getPinned(srv.port, "/api/v1/health", srv.certificate.certPem, srv.certificate.fingerprint);
    assert.equal(res.status, 503);
    assert.deepEqual((res.body as HealthDocument).failing, ["libvirtd"], "the names of the failing components, without a credential");
    assert.equal((res.body as HealthDocument).components, undefined, "but not their detail");
    const { token } = await srv.auth.store.createToken("monitor", "read");
    const doc = (await getPinned(srv.port, "/api/v1/health", srv.certificate.certPem, srv.certificate.fingerprint, token)).body as HealthDocument;
    assert.equal(doc.status, "degraded");
    assert.deepEqual(doc.failing, ["libvirtd"]);
    assert.match(doc.components["libvirtd"]?.detail ?? "", /failed to connect to the hypervisor/);
  });

  it("a broken node.yaml: config fails with file and field, the daemon keeps serving on the last good copy", async () => {
    const r = await root();
    const srv = await serve(r);
    await writeFile(join(r, "quantix/node.yaml"), 'node_id: "550e8400-e29b-41d4-a716-446655440000"\nhostname: "quantix-01"\ncolour: blue\n');
    const res = await getLocal<HealthDocument>(srv.socketPath, "/api/v1/health");
    assert.equal(res.status, 503);
    assert.deepEqual(res.body.failing, ["config"]);
    assert.match(res.body.components["config"]?.detail ?? "", /node\.yaml: unknown field colour/);
    const summary = await getLocal<ConsoleSummary>(srv.socketPath, "/api/v1/console/summary");
    assert.equal(summary.status, 200);
    assert.equal(summary.body.hostname, "quantix-01");
  });

  it("the unix socket is 0600 and serves the console summary, which HTTPS does not", async () => {
    const r = await root();
    const srv = await serve(r);
    const st = await stat(srv.socketPath);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
    const s = await getLocal<ConsoleSummary>(srv.socketPath, "/api/v1/console/summary");
    assert.equal(s.status, 200);
    assert.equal(s.body.hostname, "quantix-01");
    assert.equal(s.body.management.address, "192.0.2.10");
    assert.equal(s.body.management.url, `https://192.0.2.10:${srv.port}`);
    assert.equal(s.body.certificate.fingerprint, srv.certificate.fingerprint);
    assert.equal(s.body.version, "1.2.3");
    assert.equal(s.body.configured, false);
    const viaTls = await getPinned(srv.port, "/api/v1/console/summary", srv.certificate.certPem, srv.certificate.fingerprint);
    assert.equal(viaTls.status, 404);
  });

  it("keeps its certificate across a restart and refuses a second daemon on the same socket", async () => {
    const r = await root();
    const first = await serve(r);
    await assert.rejects(serve(r), /is in use: is another qx-node running/);
    await first.close();
    const second = await serve(r);
    assert.equal(second.certificate.generated, false);
    assert.equal(second.certificate.fingerprint, first.certificate.fingerprint);
  });
});
