import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { decodeGrubEnv, grubEnvToBootEnv, hashRegion, ImageError, LayoutError, planDisk, run, GiB } from "@quantix/core";
import { install } from "./install.ts";

const repo = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

/** A small but real system image: squashfs with release, kernel, initramfs and GRUB images. */
async function makeImage(dir: string, version = "9.9.9"): Promise<string> {
  const root = join(dir, "root");
  await mkdir(join(root, "etc/quantix"), { recursive: true });
  await mkdir(join(root, "boot"), { recursive: true });
  await writeFile(join(root, "etc/quantix/release"), `QX_VERSION=${version}\nQX_ARCH=x86_64\n`);
  await writeFile(join(root, "boot/vmlinuz"), Buffer.alloc(4096, 1));
  await writeFile(join(root, "boot/initramfs"), Buffer.alloc(4096, 2));
  await run("bash", [join(repo, "builder/grub.sh"), join(root, "usr/lib/quantix/boot")]);
  const img = join(dir, "system.squashfs");
  await run("mksquashfs", [root, img, "-noappend", "-quiet", "-comp", "xz", "-all-root"]);
  return img;
}

describe("install engine, image mode (integration)", () => {
  let dir = "";
  let image = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-engine-"));
    image = await makeImage(dir);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("builds a disk image laid out by the core layout with every partition filled", async () => {
    const out = join(dir, "disk.img");
    const events: string[] = [];
    const r = await install({
      mode: "image",
      target: out,
      imagePath: image,
      sizeBytes: 2 * GiB,
      configFiles: { "answers.yaml": "hostname: test\n" },
      log: (e) => e.type === "phase-done" && events.push(e.phase),
    });
    assert.equal(r.version, "9.9.9");
    assert.deepEqual(events, ["partition", "bios-boot", "esp", "slot-a", "slot-b", "config", "data"]);
    assert.equal((await stat(out)).size, 2 * GiB);
    await assert.rejects(stat(`${out}.work`), "work file renamed away");
    const plan = planDisk(2 * GiB);
    const part = (role: string) => plan.partitions.find((p) => p.role === role)!;

    // GPT names
    const { stdout: gpt } = await run("sgdisk", ["--print", out]);
    for (const p of plan.partitions) assert.match(gpt, new RegExp(`\\s${p.gptName}\\s*$`, "m"));

    // MBR: GRUB boot code pointing at core.img, protective MBR kept
    const { open } = await import("node:fs/promises");
    const mbr = Buffer.alloc(512);
    const mfh = await open(out, "r");
    await mfh.read(mbr, 0, 512, 0);
    await mfh.close();
    assert.equal(mbr.readBigUInt64LE(0x5c), BigInt(part("bios").startSector));
    assert.equal(mbr[0x1c2], 0xee, "protective MBR partition type");
    assert.equal(mbr.readUInt16LE(0x1fe), 0xaa55);

    // ESP: files and a valid boot environment in both copies
    const esp = `${out}@@${part("efi").offsetBytes}`;
    const { stdout: dirList } = await run("mdir", ["-i", esp, "-b", "::/grub"], { env: { MTOOLS_SKIP_CHECK: "1" } });
    assert.match(dirList, /grub\.cfg/);
    assert.match(dirList, /grubenv\.bak/);
    for (const f of ["::/grub/grubenv", "::/grub/grubenv.bak"]) {
      const { stdout } = await run("mtype", ["-i", esp, f], { env: { MTOOLS_SKIP_CHECK: "1" } });
      const env = grubEnvToBootEnv(decodeGrubEnv(Buffer.from(stdout, "latin1")));
      assert.equal(env.state.slots.A.version, "9.9.9");
      assert.equal(env.state.slots.A.status, "good");
      assert.equal(env.state.slots.B.status, "empty");
    }
    const { stdout: efiLs } = await run("mdir", ["-i", esp, "-b", "::/EFI/BOOT"], { env: { MTOOLS_SKIP_CHECK: "1" } });
    assert.match(efiLs, /BOOTX64\.EFI/);
    const { stdout: fsType } = await run("blkid", ["-p", "-O", String(part("efi").offsetBytes), "-o", "value", "-s", "LABEL", out]);
    assert.equal(fsType.trim(), "QX_EFI");

    // Slot A holds the image byte for byte; slot B starts with zeros
    const want = createHash("sha256").update(await readFile(image)).digest("hex");
    assert.equal(await hashRegion({ path: out, offset: part("system-a").offsetBytes, size: (await stat(image)).size }), want);
    const b = Buffer.alloc(4096);
    const fh = await open(out, "r");
    await fh.read(b, 0, 4096, part("system-b").offsetBytes);
    await fh.close();
    assert.ok(b.every((x) => x === 0));

    // Config is ext4 labelled QX_CONFIG holding the staged file; data is XFS labelled QX_DATA
    for (const [role, type, label] of [
      ["config", "ext4", "QX_CONFIG"],
      ["data", "xfs", "QX_DATA"],
    ] as const) {
      const { stdout } = await run("blkid", ["-p", "-O", String(part(role).offsetBytes), "-o", "export", out]);
      assert.match(stdout, new RegExp(`^TYPE=${type}$`, "m"));
      assert.match(stdout, new RegExp(`^LABEL=${label}$`, "m"));
    }
  });

  it("refuses a disk below the minimum size and leaves no file behind", async () => {
    const out = join(dir, "small.img");
    await assert.rejects(install({ mode: "image", target: out, imagePath: image, sizeBytes: GiB }), LayoutError);
    await assert.rejects(stat(out));
    await assert.rejects(stat(`${out}.work`));
  });

  it("refuses an image that is not a system image, before writing anything", async () => {
    const bogus = join(dir, "bogus.squashfs");
    await writeFile(bogus, Buffer.alloc(8192, 7));
    const out = join(dir, "never.img");
    await assert.rejects(install({ mode: "image", target: out, imagePath: bogus }), (e: unknown) => e instanceof ImageError && /not a squashfs/.test(e.message));
    await assert.rejects(stat(`${out}.work`));
  });
});
