import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import type { PkiError } from "./errors.ts";
import { caPin, certInfo, createCa, createCsr, nodeIdOf, readCsr, signNodeCsr } from "./pki.ts";

const NODE_ID = "550e8400-e29b-41d4-a716-446655440000";

describe("control/pki", () => {
  it("makes a P-256 CA whose pin is the SHA-256 of its SubjectPublicKeyInfo, and signs a node's CSR in the node's own name", async () => {
    const ca = await createCa("lab");
    const caCert = new X509Certificate(ca.certPem);
    assert.equal(caCert.ca, true);
    assert.match(caPin(ca.certPem), /^sha256:[0-9a-f]{64}$/);
    const other = await createCa("lab");
    assert.notEqual(caPin(other.certPem), caPin(ca.certPem));

    const csr = await createCsr("quantix-02");
    const pem = await signNodeCsr(ca, csr.csrPem, { hostname: "quantix-02", nodeId: NODE_ID, ips: ["10.0.0.2"] });
    const cert = new X509Certificate(pem);
    assert.ok(cert.verify(caCert.publicKey), "signed by the CA");
    assert.ok(!cert.verify(new X509Certificate(other.certPem).publicKey), "not by another CA");
    assert.equal(nodeIdOf(cert.subjectAltName), NODE_ID);
    assert.match(cert.subject, /CN=quantix-02/);
    assert.match(cert.subject, /O=quantix:nodes/);
    const days = (Date.parse(certInfo(pem).notAfter) - Date.now()) / 86_400_000;
    assert.ok(days > 364 && days < 366, `one year, got ${days}`);
  });

  it("refuses a CSR made for another host name, a malformed one, and an oversized one", async () => {
    const ca = await createCa("lab");
    const csr = await createCsr("quantix-03");
    await assert.rejects(signNodeCsr(ca, csr.csrPem, { hostname: "quantix-02", nodeId: NODE_ID }), (e: PkiError) => e.code === "CSR_NAME" && /quantix-03/.test(e.message));
    await assert.rejects(readCsr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"), (e: PkiError) => e.code === "CSR_MALFORMED");
    await assert.rejects(readCsr("x".repeat(9000)), (e: PkiError) => e.code === "CSR_TOO_LARGE");
  });
});
