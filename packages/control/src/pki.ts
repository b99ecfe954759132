/**
 * @module pki
 * The cluster's certificate authority (ECDSA P-256, as kubeadm's `--encryption-algorithm
 * ECDSA-P256`): it is made once when a cluster is created and signs every certificate of
 * the cluster: etcd peers and clients, qx-control's server certificate, and node
 * certificates issued from a join CSR.
 *
 * The CA pin is kubeadm's `--discovery-token-ca-cert-hash`: `sha256:` and the hex SHA-256
 * of the CA's DER SubjectPublicKeyInfo. A joining node compares it with the CA the
 * control plane presents before it sends its token.
 *
 * @example
 * ```ts
 * const ca = await createCa("lab");
 * const pin = caPin(ca.certPem);             // sha256:…
 * const csr = await createCsr("quantix-02");  // on the node
 * const cert = await signNodeCsr(ca, csr.csrPem, { hostname: "quantix-02", nodeId });
 * ```
 */
import { X509Certificate, createHash, webcrypto } from "node:crypto";
import { type X509Lib, loadX509 } from "@quantix/core/x509";
import { PkiError } from "./errors.ts";

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 86_400_000;
/** Certificates start 5 minutes in the past: a clock a little behind still accepts them. */
const BACKDATE = 5 * 60_000;
export const CA_DAYS = 3650;
export const NODE_CERT_DAYS = 365;
/** The URI SAN that names a node's ID in its certificate. */
export const NODE_URI_PREFIX = "urn:quantix:node:";
export const NODE_ORG = "quantix:nodes";

export interface KeyPairPem {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  readonly commonName: string;
  readonly organization?: string;
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly uris?: readonly string[];
  readonly usage: readonly ("server" | "client")[];
  readonly days: number;
  readonly now?: Date;
}

function serial(): string {
  const b = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)));
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString("hex");
}

async function importKey(keyPem: string): Promise<CryptoKey> {
  const x509 = await loadX509();
  const der = x509.PemConverter.decodeFirst(keyPem);
  return (await webcrypto.subtle.importKey("pkcs8", der, ALG, true, ["sign"])) as unknown as CryptoKey;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const x509 = await loadX509();
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", key as unknown as webcrypto.CryptoKey);
  return x509.PemConverter.encode(pkcs8, "PRIVATE KEY");
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as unknown as CryptoKeyPair;
}

function escapeDn(v: string): string {
  return v.replace(/([,+"\\<>;=])/g, "\\$1");
}

/** Makes a new cluster CA: 10 years, path length 0. */
export async function createCa(clusterName: string, now = new Date()): Promise<KeyPairPem> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=Quantix-OS cluster CA ${escapeDn(clusterName)}, O=Quantix-OS`,
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + CA_DAYS * DAY),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString("pem"), keyPem: await exportKey(keys.privateKey) };
}

/** `sha256:<hex>` of the certificate's DER SubjectPublicKeyInfo (kubeadm's CA cert hash). */
export function caPin(certPem: string): string {
  const cert = new X509Certificate(certPem);
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return `sha256:${createHash("sha256").update(spki).digest("hex")}`;
}

/** Issues a certificate for a new key made here (etcd, qx-control, admin clients). */
export async function issue(ca: KeyPairPem, o: IssueOptions): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const certPem = await sign(ca, keys.publicKey, o);
  return { certPem, keyPem: await exportKey(keys.privateKey) };
}

async function sign(ca: KeyPairPem, publicKey: CryptoKey, o: IssueOptions): Promise<string> {
  const x509 = await loadX509();
  const now = o.now ?? new Date();
  const caCert = new x509.X509Certificate(ca.certPem);
  const signingKey = await importKey(ca.keyPem);
  const eku = o.usage.map((u) => (u === "server" ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth));
  const names = [
    ...(o.dns ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(o.ips ?? []).map((value) => ({ type: "ip" as const, value })),
    ...(o.uris ?? []).map((value) => ({ type: "url" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${escapeDn(o.commonName)}${o.organization ? `, O=${escapeDn(o.organization)}` : ""}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + o.days * DAY),
    signingAlgorithm: ALG,
    publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension(eku),
      ...(names.length ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return cert.toString("pem");
}

/** A node's key and CSR, made on the node: the private key never leaves it. */
export async function createCsr(hostname: string): Promise<{ csrPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${escapeDn(hostname)}, O=${NODE_ORG}`,
    keys,
    signingAlgorithm: ALG,
  });
  return { csrPem: csr.toString("pem"), keyPem: await exportKey(keys.privateKey) };
}

/** What a CSR says, once its signature is checked. */
export interface CsrInfo {
  readonly commonName: string;
  readonly publicKey: CryptoKey;
}

export const MAX_CSR_BYTES = 8192;

/** Parses a PEM CSR and checks its self-signature; throws PkiError with the reason. */
export async function readCsr(csrPem: string): Promise<CsrInfo> {
  const x509 = await loadX509();
  if (csrPem.length > MAX_CSR_BYTES) throw new PkiError("CSR_TOO_LARGE", `the CSR is ${csrPem.length} bytes; at most ${MAX_CSR_BYTES}`);
  let csr: InstanceType<X509Lib["Pkcs10CertificateRequest"]>;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (e) {
    throw new PkiError("CSR_MALFORMED", `the CSR does not parse (${(e as Error).message})`, { hint: "send a PEM PKCS#10 request made by the node's agent" });
  }
  const alg = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
  if (alg.name !== "ECDSA" || alg.namedCurve !== "P-256") {
    throw new PkiError("CSR_KEY", `the CSR's key is ${alg.name ?? "unknown"} ${alg.namedCurve ?? ""}; the cluster issues ECDSA P-256 only`.trim());
  }
  if (!(await csr.verify())) throw new PkiError("CSR_SIGNATURE", "the CSR's signature does not verify: it was altered or made with another key");
  const cn = csr.subjectName.getField("CN")[0];
  if (!cn) throw new PkiError("CSR_MALFORMED", "the CSR has no common name (CN)");
  return { commonName: cn, publicKey: await csr.publicKey.export(ALG, ["verify"]) };
}

/**
 * Signs a node's CSR: the certificate names exactly the node being registered (CN =
 * hostname, O = quantix:nodes, URI SAN urn:quantix:node:<id>), whatever else the CSR
 * asks for. A CSR made for another host name is refused.
 */
export async function signNodeCsr(
  ca: KeyPairPem,
  csrPem: string,
  node: { hostname: string; nodeId: string; ips?: readonly string[]; now?: Date; days?: number },
): Promise<string> {
  const info = await readCsr(csrPem);
  if (info.commonName !== node.hostname) {
    throw new PkiError("CSR_NAME", `the CSR is for "${info.commonName}" but the node joins as "${node.hostname}"`, {
      hint: "a node can only ask for a certificate in its own name",
    });
  }
  return sign(ca, info.publicKey, {
    commonName: node.hostname,
    organization: NODE_ORG,
    dns: [node.hostname],
    ips: node.ips ?? [],
    uris: [`${NODE_URI_PREFIX}${node.nodeId}`],
    usage: ["client", "server"],
    days: node.days ?? NODE_CERT_DAYS,
    now: node.now,
  });
}

/** The node ID a node certificate names (its URI SAN), or null. */
export function nodeIdOf(subjectAltName: string | undefined): string | null {
  for (const part of (subjectAltName ?? "").split(/,\s*/)) {
    if (part.startsWith(`URI:${NODE_URI_PREFIX}`)) return part.slice(`URI:${NODE_URI_PREFIX}`.length);
  }
  return null;
}

/** Validity and serial of a PEM certificate. */
export function certInfo(certPem: string): { serial: string; notBefore: string; notAfter: string; fingerprint: string } {
  const c = new X509Certificate(certPem);
  return {
    serial: c.serialNumber.toLowerCase(),
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    fingerprint: c.fingerprint256,
  };
}
