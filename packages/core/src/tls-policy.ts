/**
 * @module tls-policy
 * The TLS settings of every Quantix-OS listener (qx-node's API, and the control plane
 * later): Mozilla's "intermediate" profile (v5.7). TLS 1.2 and 1.3 only; in TLS 1.2
 * only ECDHE/DHE key exchange with AEAD ciphers (AES-GCM, ChaCha20-Poly1305), no CBC,
 * no SHA-1 MACs, no RSA key exchange. TLS 1.3 suites are OpenSSL's defaults (all AEAD).
 * The client picks among these (they are all strong): `honorCipherOrder` off, as
 * Mozilla recommends.
 *
 * @example
 * ```ts
 * https.createServer({ key, cert, ...TLS_SERVER_POLICY });
 * ```
 */

/** TLS 1.2 suites of Mozilla's intermediate profile, in its order. */
export const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "DHE-RSA-AES128-GCM-SHA256",
  "DHE-RSA-AES256-GCM-SHA384",
  "DHE-RSA-CHACHA20-POLY1305",
] as const;

export const TLS_SERVER_POLICY = {
  minVersion: "TLSv1.2",
  maxVersion: "TLSv1.3",
  ciphers: TLS12_CIPHERS.join(":"),
  honorCipherOrder: false,
} as const;
