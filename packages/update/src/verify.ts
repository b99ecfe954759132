/**
 * @module verify
 * Every check an image must pass before a byte of any slot or of the boot state is
 * touched, in the order: size > 0, SHA-256 against `FILE.sha256`, OpenPGP
 * detached signature (`FILE.sig`) against the trusted keys, squashfs magic and
 * completeness, release metadata (version, arch), kernel + initramfs, a version
 * different from the running one and not older than it (semver; unless a downgrade
 * is asked for), and a size that fits the slot.
 *
 * The checksum is optional when the image is signed: a valid detached signature
 * proves the bytes already. It is checked when given (a `.sha256` beside the image,
 * or `sha256` from the caller, e.g. the API's `x-qx-image-sha256` header). An
 * unsigned image (only with `update.allow_unsigned`) needs a checksum.
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
import semver from "semver";
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
  /** Checksum file (default `FILE.sha256`; optional for a signed image). */
  readonly sha256Path?: string;
  /** The expected SHA-256 (hex), given by the caller instead of a file. */
  readonly sha256?: string;
  /** Accept an image older than the running version (`--allow-downgrade`, or update.allow_downgrade). */
  readonly allowDowngrade?: boolean;
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
  /** Where the expected checksum came from; null when none was given. */
  checksumFrom?: string | null;
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
      let want: string | null = null;
      if (s.o.sha256 !== undefined) {
        want = parseSha256File(s.o.sha256);
        if (!want) throw reject(s, "checksum", "the expected SHA-256 given is not 64 hex digits");
        s.checksumFrom = "the SHA-256 given";
      } else {
        const text = await readOptional(file);
        if (text !== null) {
          want = parseSha256File(text.toString("utf8"));
          if (!want) throw reject(s, "checksum", `${file} holds no SHA-256`);
          s.checksumFrom = file;
        } else s.checksumFrom = null;
      }
      // SHA-256 on the thread pool (WebCrypto) while the signature is checked here.
      const digest = webcrypto.subtle.digest("SHA-256", s.data as Uint8Array);
      s.signature = checkSignature(s);
      s.signature.catch(() => undefined);
      s.sha256 = Buffer.from(await digest).toString("hex");
      if (want && s.sha256 !== want) {
        throw reject(s, "checksum", `SHA-256 mismatch: the file is ${s.sha256.slice(0, 16)}…, ${s.checksumFrom} says ${want.slice(0, 16)}… (corrupt or truncated)`);
      }
    },
  },
  {
    name: "signature",
    async run(s) {
      await (s.signature ?? checkSignature(s));
      if (s.signedBy === null && !s.checksumFrom) {
        throw reject(s, "checksum", "neither signed nor checksummed: nothing proves these are the bytes that were built", "copy the .sha256 beside the image (or sign it)");
      }
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
      const running = s.o.running.version;
      if (running !== null && img.version === running) {
        throw reject(s, "same-version", `version ${img.version} is the running version`, "nothing to update");
      }
      if (!semver.valid(img.version)) throw reject(s, "no-version", `version ${JSON.stringify(img.version)} is not a semantic version (x.y.z)`);
      if (running !== null && semver.valid(running) && semver.lt(img.version, running) && !s.o.allowDowngrade) {
        throw reject(
          s,
          "downgrade",
          `version ${img.version} is older than the running ${running}: downgrades are refused (an old signed image may carry holes fixed since)`,
          "to install it anyway: qx-update --allow-downgrade (API: ?allow_downgrade=true; or update.allow_downgrade: true in node.yaml); to go back to the other installed slot: qx-update rollback",
        );
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
