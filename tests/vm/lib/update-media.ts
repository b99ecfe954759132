/**
 * @module tests/vm/lib/update-media
 * Update images for the VM tier: broken-but-signed system images made from a real
 * one (its kernel with a garbage initramfs → kernel panic; its kernel + initramfs
 * without a root tree → the initramfs finds no system), signed with builder/sign.sh
 * (the key the disk image trusts), and an ISO holding them all, attached to the VM
 * as a CD-ROM so the guest reads the files (and their .sha256/.sig) at /mnt/upd.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";

const REPO = resolve(import.meta.dirname, "../../..");

function sh(cmd: string, args: string[], opts: { input?: Buffer } = {}): Buffer {
  const r = spawnSync(cmd, args, { input: opts.input, maxBuffer: 512 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: exit ${r.status}: ${r.stderr?.toString()}`);
  return r.stdout;
}

/**
 * - panic: the real kernel with a garbage initramfs (kernel panic, every try);
 * - no-root: kernel + initramfs without a root tree (the initramfs finds no system);
 * - hang: a root whose /sbin/init never returns (only the watchdog ends the boot);
 * - crash-node: the full system with a qx-node that exits at once (supervise-daemon
 *   respawns it in a loop; the health gate never passes).
 */
export type BrokenKind = "panic" | "no-root" | "hang" | "crash-node";

/** A signed system image of `version` that GRUB can boot but that never comes up healthy. */
export function brokenImage(from: string, version: string, kind: BrokenKind, dir: string): string {
  const tree = join(dir, `tree-${kind}`);
  if (kind === "crash-node") {
    sh("unsquashfs", ["-no-progress", "-quiet", "-d", tree, from]);
    writeFileSync(join(tree, "usr/local/bin/qx-node"), '#!/bin/sh\necho "qx-node (test image): crashing on purpose" >&2\nexit 70\n', { mode: 0o755 });
  } else {
    mkdirSync(join(tree, "boot"), { recursive: true });
    mkdirSync(join(tree, "etc/quantix"), { recursive: true });
    writeFileSync(join(tree, "boot/vmlinuz"), sh("unsquashfs", ["-cat", from, "/boot/vmlinuz"]));
    writeFileSync(join(tree, "boot/initramfs"), kind === "panic" ? randomBytes(64 * 1024) : sh("unsquashfs", ["-cat", from, "/boot/initramfs"]));
    if (kind === "hang") {
      for (const d of ["bin", "sbin", "proc", "sys", "dev", "run", "tmp", "quantix", "data"]) mkdirSync(join(tree, d), { recursive: true });
      copyFileSync("/bin/busybox", join(tree, "bin/busybox"));
      chmodSync(join(tree, "bin/busybox"), 0o755);
      symlinkSync("busybox", join(tree, "bin/sh"));
      writeFileSync(join(tree, "sbin/init"), '#!/bin/sh\necho "qx-test: this system hangs in init on purpose"\nexec /bin/busybox sleep 2147483647\n', { mode: 0o755 });
    }
  }
  const release = sh("unsquashfs", ["-cat", from, "/etc/quantix/release"]).toString().replace(/^QX_VERSION=.*$/m, `QX_VERSION=${version}`);
  writeFileSync(join(tree, "etc/quantix/release"), release);
  const out = join(dir, `system-${version}.squashfs`);
  // xz, as the real images: GRUB reads the kernel and initramfs out of the squashfs, and
  // its squashfs driver knows gzip, lzo and xz but not zstd (a zstd image is "unknown
  // filesystem" to GRUB, so the slot is given up as kernel-unloadable before it boots).
  const owners = kind === "crash-node" ? [] : ["-all-root"];
  sh("mksquashfs", [tree, out, "-noappend", ...owners, "-comp", "xz", "-b", "1M", "-quiet", "-no-progress"]);
  rmSync(tree, { recursive: true, force: true });
  sign(out);
  return out;
}

/** FILE.sha256 + FILE.sig with the build's key (builder/sign.sh). */
export function sign(file: string): void {
  sh(join(REPO, "builder/sign.sh"), ["sign", file]);
}

/** An ISO 9660 (Rock Ridge) image holding `files` and their .sha256/.sig, named by basename. */
export function mediaIso(files: Record<string, string>, dir = mkdtempSync(join(tmpdir(), "qx-upd-media-"))): string {
  const root = join(dir, "root");
  mkdirSync(root, { recursive: true });
  for (const [name, src] of Object.entries(files)) {
    copyFileSync(src, join(root, name));
    for (const ext of [".sha256", ".sig"]) if (existsSync(`${src}${ext}`)) copyFileSync(`${src}${ext}`, join(root, `${name}${ext}`));
  }
  const iso = join(dir, "update-media.iso");
  sh("xorriso", ["-as", "mkisofs", "-quiet", "-R", "-V", "QX_UPD_MEDIA", "-o", iso, root]);
  return iso;
}

/** The release version inside a system image. */
export function imageVersion(file: string): string {
  const m = /^QX_VERSION=(.*)$/m.exec(sh("unsquashfs", ["-cat", file, "/etc/quantix/release"]).toString());
  if (!m?.[1]) throw new Error(`${basename(file)}: no QX_VERSION`);
  return m[1].trim();
}

/** Shell run in the guest to mount the media (idempotent). */
export const MOUNT_MEDIA = "modprobe sr_mod 2>/dev/null; modprobe isofs 2>/dev/null; mkdir -p /mnt/upd; mountpoint -q /mnt/upd || mount -t iso9660 -o ro /dev/sr0 /mnt/upd";
