import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { run } from "@quantix/core";
import { makeRoot, removeRoot } from "../test-support.ts";
import { ensureCertificate } from "./certificate.ts";

describe("node TLS certificate", () => {
  let root = "";
  let dir = "";
  beforeEach(async () => {
    root = await makeRoot();
    dir = join(root, "quantix/certificates");
  });
  afterEach(() => removeRoot(root));

  const make = (now?: Date) => ensureCertificate({ dir, hostname: "quantix-01", addresses: ["192.0.2.10", "198.51.100.7"], now });

  it("is generated once: ECDSA P-256, ten years, SANs, key 0600, fingerprint as openssl prints it", async () => {
    const c = await make();
    assert.equal(c.generated, true);
    assert.equal((await stat(c.keyPath)).mode & 0o777, 0o600);
    const text = (await run("openssl", ["x509", "-in", c.certPath, "-noout", "-text", "-fingerprint", "-sha256"])).stdout;
    assert.match(text, /ASN1 OID: prime256v1/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
    assert.match(text, /DNS:quantix-01, DNS:localhost, IP Address:127\.0\.0\.1, IP Address:192\.0\.2\.10, IP Address:198\.51\.100\.7/);
    assert.match(text, /TLS Web Server Authentication/);
    assert.ok(text.includes(`sha256 Fingerprint=${c.fingerprint}`), `${c.fingerprint} not in openssl output`);
    assert.match(c.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const years = (Date.parse(c.notAfter) - Date.parse(c.notBefore)) / (365.25 * 86400_000);
    assert.ok(years > 9.99 && years < 10.01, `validity ${years} years`);
    // openssl agrees that the key belongs to the certificate
    const pub = (await run("openssl", ["pkey", "-in", c.keyPath, "-pubout"])).stdout;
    const certPub = (await run("openssl", ["x509", "-in", c.certPath, "-noout", "-pubkey"])).stdout;
    assert.equal(pub, certPub);
  });

  it("is reused across restarts while valid and matching its key", async () => {
    const first = await make();
    const again = await make();
    assert.equal(again.generated, false);
    assert.equal(again.fingerprint, first.fingerprint);
    assert.equal(await readFile(first.keyPath, "utf8"), first.keyPem);
  });

  it("an unreadable key: the old pair is kept as .bak and a new one made", async () => {
    const first = await make();
    await writeFile(first.keyPath, "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n");
    const second = await make();
    assert.equal(second.generated, true);
    assert.notEqual(second.fingerprint, first.fingerprint);
    assert.equal(await readFile(`${first.certPath}.bak`, "utf8"), first.certPem);
    assert.match(await readFile(`${first.keyPath}.bak`, "utf8"), /garbage/);
  });

  it("a key that belongs to another certificate, or an expired one, is replaced", async () => {
    const first = await make();
    const other = join(root, "other");
    const foreign = await ensureCertificate({ dir: other, hostname: "x", addresses: [] });
    await writeFile(first.keyPath, foreign.keyPem);
    const second = await make();
    assert.equal(second.generated, true);
    const later = new Date(Date.now() + 11 * 365 * 86400_000);
    const third = await make(later);
    assert.equal(third.generated, true);
    assert.notEqual(third.fingerprint, second.fingerprint);
  });
});
