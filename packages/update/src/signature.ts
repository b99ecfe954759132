/**
 * @module signature
 * OpenPGP detached-signature verification, in-process (openpgp.js), against the
 * public keys baked into the running image (`/etc/quantix/keys/*.asc`).
 *
 * @example
 * ```ts
 * const keys = await loadTrustedKeys("/etc/quantix/keys");
 * const who = await verifyDetached(data, await fs.readFile("img.sig"), keys); // fingerprint
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import type { Key, Signature } from "openpgp";

/**
 * openpgp.js (~400 KB) is loaded on first use: `qx-update boot-check`, `status` and
 * `mark-good` run at every boot and never verify a signature, and under emulation
 * parsing the library costs them seconds.
 */
const openpgp = () => import("openpgp");

export interface TrustedKey {
  readonly file: string;
  readonly key: Key;
}

/** Reads every `*.asc` in `dir` (missing dir = no keys). Unreadable files are skipped with a warning. */
export async function loadTrustedKeys(dir: string, warn: (m: string) => void = () => undefined): Promise<TrustedKey[]> {
  const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith(".asc")).sort();
  const out: TrustedKey[] = [];
  if (files.length === 0) return out;
  const { readKeys } = await openpgp();
  for (const f of files) {
    try {
      const keys = await readKeys({ armoredKeys: await fs.readFile(join(dir, f), "utf8") });
      for (const key of keys) out.push({ file: join(dir, f), key });
    } catch (e) {
      warn(`ignoring ${join(dir, f)}: ${(e as Error).message}`);
    }
  }
  return out;
}

async function parseSignature(sig: Buffer): Promise<Signature> {
  const { readSignature } = await openpgp();
  const text = sig.subarray(0, 64).toString("latin1");
  return text.includes("-----BEGIN PGP SIGNATURE-----")
    ? readSignature({ armoredSignature: sig.toString("utf8") })
    : readSignature({ binarySignature: new Uint8Array(sig) });
}

/** Outcome of a verification: the signer's fingerprint, or why it failed. */
export type SignatureCheck = { ok: true; fingerprint: string; keyFile: string } | { ok: false; unknownKey: boolean; detail: string };

/** Verifies a detached signature of `data` against `keys`. Never throws for a bad signature. */
export async function verifyDetached(data: Uint8Array, sig: Buffer, keys: readonly TrustedKey[]): Promise<SignatureCheck> {
  let signature: Signature;
  try {
    signature = await parseSignature(sig);
  } catch (e) {
    return { ok: false, unknownKey: false, detail: `the signature file is not an OpenPGP signature (${(e as Error).message})` };
  }
  const signerIds = signature.getSigningKeyIDs().map((k) => k.toHex().toUpperCase());
  const known = keys.filter((k) => k.key.getKeys().some((sub) => signerIds.includes(sub.getKeyID().toHex().toUpperCase())));
  if (known.length === 0) {
    return {
      ok: false,
      unknownKey: true,
      detail: `signed by an unknown key ${signerIds.join(",") || "(none)"}; trusted: ${keys.map((k) => k.key.getFingerprint().toUpperCase()).join(", ") || "none"}`,
    };
  }
  try {
    const { createMessage, verify } = await openpgp();
    const message = await createMessage({ binary: data });
    const r = await verify({ message, signature, verificationKeys: known.map((k) => k.key), format: "binary" });
    for (const s of r.signatures) {
      await s.verified; // throws when the signature does not match
      const k = known.find((t) => t.key.getKeys().some((sub) => sub.getKeyID().equals(s.keyID)));
      return { ok: true, fingerprint: (k?.key.getFingerprint() ?? s.keyID.toHex()).toUpperCase(), keyFile: k?.file ?? "" };
    }
    return { ok: false, unknownKey: false, detail: "the signature file holds no signature" };
  } catch (e) {
    return { ok: false, unknownKey: false, detail: `bad signature: ${(e as Error).message.split("\n")[0]}` };
  }
}
