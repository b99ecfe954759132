/**
 * @module test-support
 * Real fixtures for qx-update's tests: OpenPGP keys made by gpg in a temporary
 * GNUPGHOME, tiny system images made by mksquashfs (release, kernel, initramfs),
 * signed as builder/sign.sh signs, and a fake node: a root tree, a directory
 * standing in for the ESP, and a sparse disk image file holding the slots.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initialState, MIN_DISK_BYTES, planDisk, run, writeBootEnv, DEFAULT_BOOT_SETTINGS, type SlotName } from "@quantix/core";
import { sha256Hex } from "./checksum.ts";
import { historyPathFor, readRunning, readSettings, type UpdateContext } from "./context.ts";
import { dirEsp } from "./esp.ts";
import { imageFileSlots, type SlotTargets } from "./slot-targets.ts";

export async function tempDir(prefix: string): Promise<string> {
  return fs.mkdtemp(join(tmpdir(), `qx-update-${prefix}-`));
}

export interface SigningKey {
  readonly home: string;
  readonly armoredPublic: string;
}

/** An ed25519 signing key in its own GNUPGHOME (as builder/sign.sh's development key). */
export async function makeSigningKey(name: string): Promise<SigningKey> {
  const home = await tempDir(`gpg-${name}`);
  await fs.chmod(home, 0o700);
  const env = { GNUPGHOME: home };
  await run("gpg", ["--batch", "--quiet", "--passphrase", "", "--quick-gen-key", `${name} <${name}@quantix.invalid>`, "ed25519", "sign", "never"], { env });
  const { stdout } = await run("gpg", ["--batch", "--armor", "--export"], { env });
  return { home, armoredPublic: stdout };
}

/** FILE.sha256 (sha256sum format) and FILE.sig (binary detached), like builder/sign.sh. */
export async function signFile(file: string, key: SigningKey | null): Promise<void> {
  const data = await fs.readFile(file);
  await fs.writeFile(`${file}.sha256`, `${sha256Hex(data)}  ${file.split("/").pop()}\n`);
  await fs.rm(`${file}.sig`, { force: true });
  if (key) await run("gpg", ["--batch", "--yes", "--detach-sign", "--output", `${file}.sig`, file], { env: { GNUPGHOME: key.home } });
}

export interface ImageSpec {
  version: string;
  arch?: string;
  kernel?: boolean;
  initramfs?: boolean;
  /** Bytes of incompressible filler (default 256 KiB). */
  filler?: number;
}

/** A tiny system image built with mksquashfs. */
export async function makeImage(dir: string, spec: ImageSpec): Promise<string> {
  const tree = await fs.mkdtemp(join(dir, "tree-"));
  await fs.mkdir(join(tree, "etc/quantix"), { recursive: true });
  await fs.mkdir(join(tree, "boot"), { recursive: true });
  await fs.writeFile(join(tree, "etc/quantix/release"), `QX_VERSION=${spec.version}\nQX_ARCH=${spec.arch ?? "x86_64"}\n`);
  if (spec.kernel !== false) await fs.writeFile(join(tree, "boot/vmlinuz"), randomBytes(4096));
  if (spec.initramfs !== false) await fs.writeFile(join(tree, "boot/initramfs"), randomBytes(4096));
  await fs.writeFile(join(tree, "filler"), randomBytes(spec.filler ?? 256 * 1024));
  const out = join(dir, `system-${spec.version}-${Math.random().toString(36).slice(2, 8)}.squashfs`);
  await run("mksquashfs", [tree, out, "-noappend", "-all-root", "-comp", "gzip", "-quiet", "-no-progress"]);
  await fs.rm(tree, { recursive: true });
  return out;
}

export interface FakeNode {
  readonly dir: string;
  readonly root: string;
  readonly esp: string;
  readonly disk: string;
  readonly slots: SlotTargets;
  ctx(overrides?: Partial<UpdateContext>): UpdateContext;
  /** Sets the kernel command line (`qx.slot=...`). */
  boot(slot: SlotName, trying?: boolean): Promise<void>;
  setRunningVersion(v: string): Promise<void>;
  setNodeYaml(text: string): Promise<void>;
  logs: string[];
}

/** A node running `version` from slot A, trusting `keys`. */
export async function makeFakeNode(version: string, keys: readonly SigningKey[]): Promise<FakeNode> {
  const dir = await tempDir("node");
  const root = join(dir, "root");
  const esp = join(dir, "esp");
  const disk = join(dir, "disk.img");
  await fs.mkdir(join(root, "etc/quantix/keys"), { recursive: true });
  await fs.mkdir(join(root, "proc"), { recursive: true });
  await fs.mkdir(join(root, "quantix"), { recursive: true });
  await fs.mkdir(esp);
  for (const [i, k] of keys.entries()) await fs.writeFile(join(root, `etc/quantix/keys/key${i}.asc`), k.armoredPublic);
  // A sparse disk; slot A gets a recognisable pattern so "untouched" can be checked.
  const fh = await fs.open(disk, "w");
  await fh.truncate(MIN_DISK_BYTES);
  await fh.close();
  const plan = planDisk(MIN_DISK_BYTES);
  const slots = imageFileSlots(disk, plan);
  const a = await slots.region("A");
  const h = await fs.open(disk, "r+");
  await h.write(Buffer.alloc(1024 * 1024, 0xa5), 0, 1024 * 1024, a.offset);
  await h.close();
  await writeBootEnv(esp, { state: initialState(version), settings: DEFAULT_BOOT_SETTINGS });
  const logs: string[] = [];
  const node: FakeNode = {
    dir,
    root,
    esp,
    disk,
    slots,
    logs,
    ctx: (overrides = {}) => ({
      root,
      esp: dirEsp(esp),
      slots,
      keysDir: join(root, "etc/quantix/keys"),
      historyPath: historyPathFor(root),
      log: (l) => logs.push(l),
      running: () => readRunning(root),
      settings: () => readSettings(root),
      ...overrides,
    }),
    boot: (slot, trying = false) => fs.writeFile(join(root, "proc/cmdline"), `qx.slot=${slot}${trying ? " qx.trying=1 qx.watchdog=420" : ""} console=ttyS0\n`),
    setRunningVersion: (v) => fs.writeFile(join(root, "etc/quantix/release"), `QX_VERSION=${v}\nQX_ARCH=x86_64\n`),
    setNodeYaml: (text) => fs.writeFile(join(root, "quantix/node.yaml"), text),
  };
  await node.boot("A");
  await node.setRunningVersion(version);
  return node;
}

/**
 * SHA-256 of the first 8 MiB of a slot: every write starts at the slot's first byte,
 * so this proves the slot was not touched (without reading 300 MiB per check).
 */
export async function slotHash(node: FakeNode, slot: SlotName, bytes = 8 * 1024 * 1024): Promise<string> {
  const r = await node.slots.region(slot);
  const fh = await fs.open(r.path, "r");
  try {
    const buf = Buffer.alloc(Math.min(bytes, r.size));
    await fh.read(buf, 0, buf.length, r.offset);
    return sha256Hex(buf);
  } finally {
    await fh.close();
  }
}

/** Both GRUB env copies, byte for byte. */
export async function envBytes(node: FakeNode): Promise<string> {
  const a = await fs.readFile(join(node.esp, "grub/grubenv"));
  const b = await fs.readFile(join(node.esp, "grub/grubenv.bak"));
  return sha256Hex(Buffer.concat([a, b]));
}
