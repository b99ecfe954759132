import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { checkServerIdentity, type PeerCertificate } from "node:tls";
import { pino } from "pino";
import { getLocal } from "./client.ts";
import { type RunningServer, startServer } from "./server.ts";
import type { HealthDocument } from "./services/health.ts";
import type { ConsoleSummary } from "./services/summary.ts";
import { fakeRunner, makeRoot, removeRoot, testContext } from "./test-support.ts";

/** GET over HTTPS trusting only the node's certificate, pinned by its SHA-256 fingerprint. */
function getPinned(port: number, path: string, ca: string, fingerprint: string): Promise<{ status: number; body: unknown; peer: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        ca,
        agent: false,
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
    const doc = res.body as HealthDocument;
    assert.equal(doc.status, "healthy");
    assert.deepEqual(Object.keys(doc.components), ["libvirtd", "ovs", "data", "config", "slot", "version"]);
    assert.match(srv.certificate.subjectAltName, /DNS:quantix-01, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:192\.0\.2\.10/);
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
    const doc = res.body as HealthDocument;
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
