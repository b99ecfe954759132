/**
 * @module services/certificate
 * The node's TLS certificate in `/quantix/certificates/` (`node.crt`, `node.key`).
 * Generated at first start: ECDSA P-256, self-signed, valid ten years, with the host
 * name, `localhost`, 127.0.0.1 and the host's IPv4 addresses as SANs. Reused across
 * reboots while it parses, is in date and matches its key (so its fingerprint, shown
 * on the console, stays put); otherwise the old pair is kept as `.bak` and a new one
 * is made.
 *
 * @example
 * ```ts
 * const cert = await ensureCertificate({ dir: configPaths().certificates, hostname: "quantix-01", addresses: ["10.0.0.5"] });
 * cert.fingerprint; // "AB:12:...", as `openssl x509 -fingerprint -sha256` prints it
 * ```
 */
import { createPrivateKey, X509Certificate, webcrypto } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@quantix/core";
import { loadX509 } from "@quantix/core/x509";

export const CERT_FILE = "node.crt";
export const KEY_FILE = "node.key";
export const VALIDITY_YEARS = 10;

export interface NodeCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  /** SHA-256 of the DER certificate, colon-separated upper-case hex. */
  readonly fingerprint: string;
  readonly notBefore: string;
  readonly notAfter: string;
  /** e.g. `DNS:quantix-01, DNS:localhost, IP Address:127.0.0.1` (node's format). */
  readonly subjectAltName: string;
  /** True when this call made a new pair. */
  readonly generated: boolean;
  readonly certPath: string;
  readonly keyPath: string;
}

export interface EnsureCertificateOptions {
  /** The certificates directory (`configPaths(root).certificates`). */
  readonly dir: string;
  readonly hostname: string;
  /** Non-loopback IPv4 addresses to name (127.0.0.1 is always added). */
  readonly addresses: readonly string[];
  readonly now?: Date;
}

/** A reason the stored pair cannot be used, or null when it can. */
function problemWith(certPem: string, keyPem: string, now: Date): string | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return "certificate does not parse";
  }
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    return "key does not parse";
  }
  if (!cert.checkPrivateKey(key)) return "key does not match the certificate";
  if (new Date(cert.validTo).getTime() <= now.getTime()) return `certificate expired on ${cert.validTo}`;
  return null;
}

function describe(cert: X509Certificate, certPem: string, keyPem: string, dir: string, generated: boolean): NodeCertificate {
  return {
    certPem,
    keyPem,
    fingerprint: cert.fingerprint256,
    notBefore: new Date(cert.validFrom).toISOString(),
    notAfter: new Date(cert.validTo).toISOString(),
    subjectAltName: cert.subjectAltName ?? "",
    generated,
    certPath: join(dir, CERT_FILE),
    keyPath: join(dir, KEY_FILE),
  };
}

async function readIfThere(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    return ""; // unreadable: treated like garbage, so the pair is replaced
  }
}

/** Makes a new self-signed pair (nothing is written). */
export async function generateCertificate(
  hostname: string,
  addresses: readonly string[],
  now = new Date(),
): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const notBefore = new Date(now.getTime() - 5 * 60_000); // tolerate a clock a little behind
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  const ips = [...new Set(["127.0.0.1", ...addresses])];
  const dns = [...new Set([hostname, "localhost"])];
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString("hex"),
    name: `CN=${hostname}, O=Quantix-OS`,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys: keys as unknown as CryptoKeyPair,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...dns.map((value) => ({ type: "dns" as const, value })),
        ...ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as CryptoKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
  return { certPem: cert.toString("pem"), keyPem };
}

/** Loads the stored pair when usable, else makes (and stores) a new one. */
export async function ensureCertificate(options: EnsureCertificateOptions): Promise<NodeCertificate> {
  const { dir } = options;
  const now = options.now ?? new Date();
  const certPath = join(dir, CERT_FILE);
  const keyPath = join(dir, KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readIfThere(certPath), readIfThere(keyPath)]);
  if (certPem !== null && keyPem !== null && problemWith(certPem, keyPem, now) === null) {
    return describe(new X509Certificate(certPem), certPem, keyPem, dir, false);
  }
  await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  // Whatever was there and is unusable is kept for inspection, not deleted.
  for (const [p, had] of [
    [certPath, certPem],
    [keyPath, keyPem],
  ] as const) {
    if (had !== null) await fs.rename(p, `${p}.bak`).catch(() => undefined);
  }
  const fresh = await generateCertificate(options.hostname, options.addresses, now);
  await writeFileAtomic(keyPath, fresh.keyPem, { mode: 0o600 });
  await writeFileAtomic(certPath, fresh.certPem, { mode: 0o644 });
  return describe(new X509Certificate(fresh.certPem), fresh.certPem, fresh.keyPem, dir, true);
}

/** Reads the stored certificate without checking or touching it (`qx-node fingerprint`). */
export async function readCertificate(dir: string): Promise<NodeCertificate> {
  const certPem = await fs.readFile(join(dir, CERT_FILE), "utf8");
  return describe(new X509Certificate(certPem), certPem, "", dir, false);
}
