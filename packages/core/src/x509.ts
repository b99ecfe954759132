/**
 * @module x509
 * Loads @peculiar/x509 (with reflect-metadata, which it needs first) on first use, with
 * node's WebCrypto as its provider. Only making certificates and CSRs needs it: it costs
 * ~10 MB of RSS, so it stays off the start path; reading one needs only node:crypto.
 */
import { webcrypto } from "node:crypto";

export type X509Lib = typeof import("@peculiar/x509");
let x509Lib: Promise<X509Lib> | undefined;

export function loadX509(): Promise<X509Lib> {
  x509Lib ??= (async () => {
    await import("reflect-metadata");
    // A CommonJS package: its exports are the default export in the split bundle
    // (scripts/bundle.mjs), and also named ones under Node and tsx.
    const mod: X509Lib & { default?: X509Lib } = await import("@peculiar/x509");
    const lib = mod.default ?? mod;
    lib.cryptoProvider.set(webcrypto as unknown as Crypto);
    return lib;
  })();
  return x509Lib;
}
