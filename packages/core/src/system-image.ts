/**
 * @module system-image
 * Reads a Quantix-OS system image (the squashfs that fills a slot) without mounting
 * it: the superblock, `/etc/quantix/release`, and single files via `unsquashfs -cat`.
 * Used by the installer (all modes) and by qx-update's checks.
 *
 * @example
 * ```ts
 * const img = await openSystemImage("output/system-1.0.0.squashfs");
 * img.version; // "1.0.0"
 * const efi = await img.readFile("/usr/lib/quantix/boot/BOOTX64.EFI");
 * ```
 */
import { promises as fs } from "node:fs";
import { IMAGE_PATHS } from "./layout.ts";
import { QxError } from "./errors.ts";
import { run, runBinary } from "./exec.ts";

export const SQUASHFS_MAGIC = 0x73717368; // "hsqs" little-endian
/** Where the image carries the GRUB binaries the installer lays down. */
export const IMAGE_BOOT_DIR = "/usr/lib/quantix/boot";

export class ImageError extends QxError {
  override name = "ImageError";
  constructor(
    message: string,
    readonly image: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("IMAGE_INVALID", `${image}: ${message}`, options);
  }
}

export interface SquashfsSuperblock {
  readonly inodes: number;
  readonly blockSize: number;
  readonly compression: "gzip" | "lzma" | "lzo" | "xz" | "lz4" | "zstd" | "unknown";
  readonly bytesUsed: number;
  readonly majorVersion: number;
}

const COMPRESSORS = ["unknown", "gzip", "lzma", "lzo", "xz", "lz4", "zstd"] as const;

/** Parses the 96-byte squashfs 4.0 superblock; throws ImageError when it is not one. */
export function parseSuperblock(buf: Buffer, image = "image"): SquashfsSuperblock {
  if (buf.length < 96) throw new ImageError("too short to be a squashfs image", image);
  if (buf.readUInt32LE(0) !== SQUASHFS_MAGIC) throw new ImageError("not a squashfs image (bad magic)", image);
  const major = buf.readUInt16LE(28);
  if (major !== 4) throw new ImageError(`squashfs version ${major} is not supported`, image);
  const comp = buf.readUInt16LE(20);
  return {
    inodes: buf.readUInt32LE(4),
    blockSize: buf.readUInt32LE(12),
    compression: COMPRESSORS[comp] ?? "unknown",
    bytesUsed: Number(buf.readBigUInt64LE(40)),
    majorVersion: major,
  };
}

/** Parses shell-style KEY=value lines (quotes optional), as in os-release. */
export function parseKeyValue(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!m?.[1]) continue;
    let v = (m[2] ?? "").trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]] = v;
  }
  return out;
}

export interface SystemImage {
  readonly path: string;
  readonly sizeBytes: number;
  readonly superblock: SquashfsSuperblock;
  readonly release: Readonly<Record<string, string>>;
  readonly version: string;
  readonly arch: string;
  /** Reads one file out of the image. */
  readFile(pathInImage: string): Promise<Buffer>;
  /** True when the image holds `pathInImage`. */
  has(pathInImage: string): Promise<boolean>;
}

/** Opens and sanity-checks a system image: squashfs, release file, kernel, initramfs. */
export async function openSystemImage(path: string): Promise<SystemImage> {
  let st: Awaited<ReturnType<typeof fs.stat>>;
  try {
    st = await fs.stat(path);
  } catch (e) {
    throw new ImageError(`cannot read (${(e as NodeJS.ErrnoException).code})`, path, { cause: e });
  }
  if (st.size === 0) throw new ImageError("the file is empty", path);
  const fh = await fs.open(path, "r");
  const head = Buffer.alloc(96);
  try {
    await fh.read(head, 0, 96, 0);
  } finally {
    await fh.close();
  }
  const superblock = parseSuperblock(head, path);
  if (superblock.bytesUsed > st.size) {
    throw new ImageError(`truncated: the superblock says ${superblock.bytesUsed} bytes, the file has ${st.size}`, path);
  }
  const readFile = async (p: string): Promise<Buffer> => {
    try {
      return (await runBinary("unsquashfs", ["-cat", path, p])).stdout;
    } catch (e) {
      throw new ImageError(`cannot read ${p} from the image`, path, { cause: e });
    }
  };
  const has = async (p: string): Promise<boolean> => {
    const r = await run("unsquashfs", ["-l", "-d", "", path, p.replace(/^\//, "")], { allowFailure: true });
    return r.exitCode === 0 && r.stdout.split("\n").some((l) => l.trim() === p);
  };
  const release = parseKeyValue((await readFile(IMAGE_PATHS.release)).toString("utf8"));
  const version = release.QX_VERSION;
  if (!version) throw new ImageError(`${IMAGE_PATHS.release} has no QX_VERSION`, path);
  for (const p of [IMAGE_PATHS.kernel, IMAGE_PATHS.initramfs]) {
    if (!(await has(p))) throw new ImageError(`the image carries no ${p}`, path, { hint: "build it with make squashfs" });
  }
  return { path, sizeBytes: st.size, superblock, release, version, arch: release.QX_ARCH ?? "unknown", readFile, has };
}
