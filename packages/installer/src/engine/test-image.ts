/**
 * @module engine/test-image
 * Test support: a small but real system image (squashfs with the release file, a
 * kernel and initramfs stand-in, and the GRUB images builder/grub.sh makes), and loop
 * devices with partition nodes (`partx -a`, as PLATFORM-NOTES describes).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { run } from "@quantix/core";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** Builds `dir/system-VERSION.squashfs`; `filler` bytes of incompressible data make it bigger. */
export async function makeTestImage(dir: string, version = "9.9.9", filler = 0): Promise<string> {
  const root = join(dir, `root-${version}`);
  await mkdir(join(root, "etc/quantix"), { recursive: true });
  await mkdir(join(root, "boot"), { recursive: true });
  await writeFile(join(root, "etc/quantix/release"), `QX_VERSION=${version}\nQX_ARCH=x86_64\n`);
  await writeFile(join(root, "boot/vmlinuz"), Buffer.alloc(4096, 1));
  await writeFile(join(root, "boot/initramfs"), Buffer.alloc(4096, 2));
  if (filler) {
    const { randomBytes } = await import("node:crypto");
    await writeFile(join(root, "filler"), randomBytes(filler));
  }
  await run("bash", [join(repo, "builder/grub.sh"), join(root, "usr/lib/quantix/boot")]);
  const img = join(dir, `system-${version}.squashfs`);
  await run("mksquashfs", [root, img, "-noappend", "-quiet", "-comp", "xz", "-all-root"]);
  return img;
}

/** A sparse file of `bytes` attached to a loop device. */
export async function attachLoop(file: string, bytes: number): Promise<string> {
  await run("truncate", ["-s", String(bytes), file]);
  const { stdout } = await run("losetup", ["--find", "--show", file]);
  return stdout.trim();
}

/** Detaches a loop device and its partition nodes. */
export async function detachLoop(dev: string): Promise<void> {
  await run("partx", ["-d", dev], { allowFailure: true });
  await run("losetup", ["-d", dev], { allowFailure: true });
}
