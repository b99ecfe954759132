/**
 * @module verify
 * Every check an image must pass before a byte of any slot or of the boot state is
 * touched, in the order: size > 0, SHA-256 against `FILE.sha256`, OpenPGP
 * detached signature (`FILE.sig`) against the trusted keys, squashfs magic and
 * completeness, release metadata (version, arch), kernel + initramfs, a version
 * different from the running one, and a size that fits the slot.
 *
 * @example
 * ```ts
 * const v = await verifyImage("system-1.1.0.squashfs", { keysDir: "/etc/quantix/keys", allowUnsigned: false,
 *   running: { version: "1.0.0", arch: "x86_64" }, slotBytes: 300 * MiB });
 * v.version; // "1.1.0"
 * ```
 */
import { webcrypto } from "node:crypto";
import { promises as fs } from "node:fs";
import { ImageError, openSystemImage, parseSuperblock, type SystemImage } from "@quantix/core";
import { parseSha256File } from "./checksum.ts";
import { ImageRejectedError } from "./errors.ts";
import { loadTrustedKeys, verifyDetached } from "./signature.ts";

export interface VerifyOptions {
  readonly keysDir: string;
  readonly allowUnsigned: boolean;
  /** The running system; `version: null` skips the same-version rule (workstation). */
  readonly running: { readonly version: string | null; readonly arch: string };
  readonly slotBytes: number;
  /** Signature file (default `FILE.sig`). */
  readonly sigPath?: string;
  /** Checksum file (default `FILE.sha256`). */
  readonly sha256Path?: string;
  readonly log?: (line: string) => void;
}

export interface VerifiedImage {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly version: string;
  readonly arch: string;
  /** Fingerprint of the signing key, or null for an unsigned image allowed by node.yaml. */
  readonly signedBy: string | null;
  readonly compression: string;
  readonly ms: number;
}

/** A named check; the list is the order of work. */
interface Check {
  readonly name: string;
  run(s: VerifyState): Promise<void>;
}

interface VerifyState {
  readonly path: string;
  readonly o: VerifyOptions;
  data?: Uint8Array;
  sha256?: string;
  signature?: Promise<void>;
  signedBy?: string | null;
  image?: SystemImage;
}

const reject = (s: VerifyState, reason: ConstructorParameters<typeof ImageRejectedError>[0], msg: string, hint?: string) =>
  new ImageRejectedError(reason, s.path, msg, hint ? { hint } : undefined);

const readOptional = (p: string) => fs.readFile(p).catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? null : Promise.reject(e)));

/** The signature check (started while the SHA-256 is computed; its verdict is reported after it). */
async function checkSignature(s: VerifyState): Promise<void> {
  const file = s.o.sigPath ?? `${s.path}.sig`;
  const sig = await readOptional(file);
  if (sig === null) {
    if (s.o.allowUnsigned) {
      s.o.log?.(`warning: ${s.path} is not signed; accepted because node.yaml sets update.allow_unsigned: true`);
      s.signedBy = null;
      return;
    }
    throw reject(s, "unsigned", `not signed (no ${file})`, "unsigned images are refused unless node.yaml sets update.allow_unsigned: true");
  }
  const keys = await loadTrustedKeys(s.o.keysDir, s.o.log);
  if (keys.length === 0 && !s.o.allowUnsigned) throw reject(s, "signature", `no trusted keys in ${s.o.keysDir}`);
  const r = await verifyDetached(s.data as Uint8Array, sig, keys);
  if (!r.ok) throw reject(s, "signature", r.detail);
  s.signedBy = r.fingerprint;
}

export const CHECKS: readonly Check[] = [
  {
    name: "size",
    async run(s) {
      const st = await fs.stat(s.path).catch(() => null);
      if (!st?.isFile()) throw reject(s, "missing", "no such file");
      if (st.size === 0) throw reject(s, "empty", "the image is empty");
      if (st.size > s.o.slotBytes) {
        throw reject(s, "too-large", `the image is ${st.size} bytes, larger than the ${s.o.slotBytes}-byte slot`, "use an image built for this layout");
      }
      s.data = await fs.readFile(s.path);
    },
  },
  {
    name: "sha256",
    async run(s) {
      const file = s.o.sha256Path ?? `${s.path}.sha256`;
      const text = await readOptional(file);
      if (text === null) throw reject(s, "checksum", `no checksum file ${file}`, "copy the .sha256 beside the image");
      const want = parseSha256File(text.toString("utf8"));
      if (!want) throw reject(s, "checksum", `${file} holds no SHA-256`);
      // SHA-256 on the thread pool (WebCrypto) while the signature is checked here.
      const digest = webcrypto.subtle.digest("SHA-256", s.data as Uint8Array);
      s.signature = checkSignature(s);
      s.signature.catch(() => undefined);
      s.sha256 = Buffer.from(await digest).toString("hex");
      if (s.sha256 !== want) throw reject(s, "checksum", `SHA-256 mismatch: the file is ${s.sha256.slice(0, 16)}…, ${file} says ${want.slice(0, 16)}… (corrupt or truncated)`);
    },
  },
  {
    name: "signature",
    async run(s) {
      await (s.signature ?? checkSignature(s));
    },
  },
  {
    name: "squashfs",
    async run(s) {
      const data = s.data as Uint8Array;
      let bytesUsed: number;
      try {
        bytesUsed = parseSuperblock(Buffer.from(data.buffer, data.byteOffset, Math.min(96, data.length)), s.path).bytesUsed;
      } catch (e) {
        throw reject(s, "not-squashfs", e instanceof ImageError ? "not a squashfs 4.0 image (bad superblock)" : String(e));
      }
      if (bytesUsed > data.length) throw reject(s, "truncated", `truncated: the superblock says ${bytesUsed} bytes, the file has ${data.length}`);
      try {
        s.image = await openSystemImage(s.path);
      } catch (e) {
        throw reject(s, "no-kernel", e instanceof ImageError ? e.message.replace(`${s.path}: `, "") : String(e));
      }
    },
  },
  {
    name: "release",
    async run(s) {
      const img = s.image as SystemImage;
      if (img.arch !== s.o.running.arch) throw reject(s, "arch", `built for ${img.arch}, this system is ${s.o.running.arch}`);
      if (s.o.running.version !== null && img.version === s.o.running.version) {
        throw reject(s, "same-version", `version ${img.version} is the running version`, "nothing to update");
      }
    },
  },
];

/** Runs {@link CHECKS} in order; throws ImageRejectedError at the first failure. Touches nothing. */
export async function verifyImage(path: string, options: VerifyOptions): Promise<VerifiedImage> {
  return (await verifyImageData(path, options)).image;
}

/**
 * As {@link verifyImage}, also returning the verified bytes, so the install writes
 * exactly what was verified without reading the file again.
 */
export async function verifyImageData(path: string, options: VerifyOptions): Promise<{ image: VerifiedImage; data: Uint8Array }> {
  const t0 = performance.now();
  const s: VerifyState = { path, o: options };
  for (const c of CHECKS) {
    options.log?.(`verify: ${c.name}`);
    await c.run(s);
  }
  const img = s.image as SystemImage;
  return {
    data: s.data as Uint8Array,
    image: {
      path,
      bytes: img.sizeBytes,
      sha256: s.sha256 as string,
      version: img.version,
      arch: img.arch,
      signedBy: s.signedBy ?? null,
      compression: img.superblock.compression,
      ms: performance.now() - t0,
    },
  };
}
