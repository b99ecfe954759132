/**
 * Install engine on block devices (integration: root, loop devices with partition
 * nodes, real sgdisk/mkfs/mtools/LVM). The ESP is checked with mtools, the config
 * partition with debugfs: nothing is mounted except where a test needs a mounted disk.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeGrubEnv, GiB, grubEnvToBootEnv, hashRegion, MiB, planDisk, run } from "@quantix/core";
import { type DiskEnv, defaultDiskEnv, diskInfo, listDisks } from "./disks.ts";
import { DATA_VOLUME_GROUP } from "./phases.ts";
import { InstallRefused } from "./preflight.ts";
import { partitionDevice } from "./target.ts";
import { attachLoop, detachLoop, makeTestImage } from "./test-image.ts";
import { installToDisk } from "../live/session.ts";
import { install } from "./install.ts";

const MTOOLS = { env: { MTOOLS_SKIP_CHECK: "1" } };
const sha256 = async (f: string) => createHash("sha256").update(await readFile(f)).digest("hex");

async function firstMiBIsZero(dev: string): Promise<boolean> {
  const { stdout } = await run("sh", ["-c", `dd if=${dev} bs=1M count=1 status=none | tr -d '\\0' | wc -c`]);
  return stdout.trim() === "0";
}

async function debugfsCat(dev: string, path: string): Promise<string> {
  const { stdout } = await run("debugfs", ["-R", `cat ${path}`, dev]);
  return stdout;
}

describe("install engine on a block device (integration)", { timeout: 10 * 60_000 }, () => {
  let dir = "";
  let image = "";
  let image2 = "";
  const loops: string[] = [];
  let env: DiskEnv;
  const loop = async (name: string, bytes: number) => {
    const dev = await attachLoop(join(dir, name), bytes);
    loops.push(dev);
    return dev;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-device-"));
    image = await makeTestImage(dir, "9.9.9");
    image2 = await makeTestImage(dir, "9.9.10", 64 * 1024);
    env = { ...defaultDiskEnv(), statusFile: join(dir, "initramfs.status") };
  });
  after(async () => {
    await run("vgremove", ["-ff", "-y", DATA_VOLUME_GROUP], { allowFailure: true });
    await run("umount", [join(dir, "mnt")], { allowFailure: true });
    for (const l of loops) await detachLoop(l);
    await rm(dir, { recursive: true, force: true });
  });

  it("lists a loop disk with its size and whether it holds data", async () => {
    const dev = await loop("list.img", 3 * GiB);
    let [d] = await listDisks(env, dev);
    assert.equal(d?.device, dev);
    assert.equal(d?.sizeBytes, 3 * GiB);
    assert.equal(d?.hasData, false);
    assert.equal(d?.isBootMedium, false);
    await run("sgdisk", ["-n", "1:2048:+10M", "-c", "1:OLD", dev]);
    await run("partx", ["-a", dev], { allowFailure: true });
    [d] = await listDisks(env, dev);
    assert.equal(d?.hasData, true);
    assert.match(d?.contents ?? "", /gpt: OLD/);
    assert.ok((await listDisks(env)).some((x) => x.device === dev), "the full listing has it too");
  });

  it("installs: core layout, GRUB + environment on the ESP, slot A verified, answers for the first boot, XFS data", async () => {
    const dev = await loop("disk.img", 3 * GiB);
    const events: string[] = [];
    const r = await installToDisk({
      disk: dev,
      mode: "install",
      data: "xfs",
      imagePath: image,
      answers: { hostname: "rack1-node3", network: { management: { interface: "eth0", mode: "static", address: "10.0.0.5/24", gateway: "10.0.0.1" } } },
      diskEnv: env,
      log: (e) => e.type === "phase-done" && events.push(e.phase),
    });
    assert.equal(r.version, "9.9.9");
    assert.deepEqual(events, ["partition", "bios-boot", "esp", "slot-a", "slot-b", "config", "data"]);
    const plan = planDisk(3 * GiB);
    const { stdout: gpt } = await run("sgdisk", ["--print", dev]);
    for (const p of plan.partitions) assert.match(gpt, new RegExp(`^\\s+${p.number}\\s+${p.startSector}\\s+${p.endSector}\\s.*\\s${p.gptName}\\s*$`, "m"));
    const part = async (role: string) => partitionDevice(dev, plan.partitions.find((p) => p.role === role)!.number);
    const esp = await part("efi");
    const { stdout: envText } = await run("mtype", ["-i", esp, "::/grub/grubenv"], MTOOLS);
    assert.equal(grubEnvToBootEnv(decodeGrubEnv(Buffer.from(envText, "latin1"))).state.slots.A.version, "9.9.9");
    const slotA = await part("system-a");
    assert.equal(await hashRegion({ path: slotA, offset: 0, size: (await stat(image)).size }), await sha256(image));
    const seed = JSON.parse((await debugfsCat(await part("config"), "/install.yaml")).replace(/^#.*\n/, "")) as Record<string, unknown>;
    assert.equal(seed.hostname, "rack1-node3");
    assert.equal(seed.version, "9.9.9");
    assert.deepEqual(seed.network, { management: { interface: "eth0", mode: "static", address: "10.0.0.5/24", gateway: "10.0.0.1" } });
    const { stdout: dataType } = await run("blkid", ["-p", "-o", "export", await part("data")]);
    assert.match(dataType, /^TYPE=xfs$/m);
    assert.match(dataType, /^LABEL=QX_DATA$/m);
  });

  it("upgrade keeps /quantix and /data and replaces slot A", async () => {
    const dev = loops.at(-1)!;
    const plan = planDisk(3 * GiB);
    const part = async (role: string) => partitionDevice(dev, plan.partitions.find((p) => p.role === role)!.number);
    const config = await part("config");
    await writeFile(join(dir, "marker"), "keep me\n");
    await run("debugfs", ["-w", "-R", `write ${join(dir, "marker")} node.yaml`, config]);
    const uuid = async () => (await run("blkid", ["-p", "-o", "value", "-s", "UUID", await part("data")])).stdout.trim();
    const dataUuid = await uuid();
    const events: string[] = [];
    await installToDisk({ disk: dev, mode: "upgrade", data: "xfs", imagePath: image2, answers: null, diskEnv: env, log: (e) => e.type === "phase-done" && events.push(e.phase) });
    assert.deepEqual(events, ["bios-boot", "esp", "slot-a", "slot-b"], "no partitioning, no config, no data phase");
    assert.equal(await debugfsCat(config, "/node.yaml"), "keep me\n");
    assert.equal(await uuid(), dataUuid, "same XFS filesystem on /data");
    assert.equal(await hashRegion({ path: await part("system-a"), offset: 0, size: (await stat(image2)).size }), await sha256(image2));
    const { stdout: envText } = await run("mtype", ["-i", await part("efi"), "::/grub/grubenv"], MTOOLS);
    assert.equal(grubEnvToBootEnv(decodeGrubEnv(Buffer.from(envText, "latin1"))).state.slots.A.version, "9.9.10");
  });

  it("refuses to upgrade a disk without the Quantix-OS layout, nothing written", async () => {
    const dev = await loop("blank-upgrade.img", 3 * GiB);
    await assert.rejects(
      install({ mode: "upgrade", target: dev, imagePath: image, diskEnv: env }),
      (e: unknown) => e instanceof InstallRefused && e.reason === "no-quantix-layout" && /nothing was written/.test(e.message) && /install instead/.test(e.message),
    );
    assert.ok(await firstMiBIsZero(dev));
  });

  it("refuses a disk smaller than the layout minimum, nothing written", async () => {
    const dev = await loop("small.img", GiB);
    await assert.rejects(
      install({ mode: "install", target: dev, imagePath: image, diskEnv: env }),
      (e: unknown) => e instanceof InstallRefused && e.reason === "too-small" && /smaller than the .* Quantix-OS needs/.test(e.message),
    );
    assert.ok(await firstMiBIsZero(dev));
  });

  it("refuses the disk the system booted from, nothing written", async () => {
    const dev = await loop("boot.img", 3 * GiB);
    await run("sgdisk", ["-n", "2:2048:+10M", dev]);
    await run("partx", ["-a", dev], { allowFailure: true });
    const before = createHash("sha256").update((await run("sgdisk", ["--backup=/dev/stdout", dev])).stdout).digest("hex");
    await writeFile(env.statusFile, `QX_SOURCE='${dev}p2'\n`);
    try {
      assert.equal((await diskInfo(dev, env)).isBootMedium, true);
      await assert.rejects(
        install({ mode: "install", target: dev, imagePath: image, diskEnv: env }),
        (e: unknown) => e instanceof InstallRefused && e.reason === "boot-medium" && /booted from/.test(e.message),
      );
    } finally {
      await rm(env.statusFile, { force: true });
    }
    const afterHash = createHash("sha256").update((await run("sgdisk", ["--backup=/dev/stdout", dev])).stdout).digest("hex");
    assert.equal(afterHash, before, "partition table unchanged");
  });

  it("refuses a mounted disk, nothing written", async () => {
    const dev = await loop("mounted.img", 3 * GiB);
    await run("mke2fs", ["-q", "-t", "ext4", "-L", "BUSY", dev]);
    const mnt = join(dir, "mnt");
    await run("mkdir", ["-p", mnt]);
    await run("mount", [dev, mnt]);
    try {
      await assert.rejects(
        install({ mode: "install", target: dev, imagePath: image, diskEnv: env }),
        (e: unknown) => e instanceof InstallRefused && e.reason === "mounted" && e.message.includes(mnt),
      );
    } finally {
      await run("umount", [mnt]);
    }
    const { stdout } = await run("blkid", ["-p", "-o", "value", "-s", "LABEL", dev]);
    assert.equal(stdout.trim(), "BUSY", "filesystem untouched");
  });

  it("refuses a partition instead of a disk", async () => {
    const dev = loops[1]!;
    const p1 = await partitionDevice(dev, 1);
    await assert.rejects(
      install({ mode: "install", target: p1, imagePath: image, diskEnv: env }),
      (e: unknown) => e instanceof InstallRefused && e.reason === "not-a-disk" && /name the disk itself/.test(e.message),
    );
  });

  it("the LVM option makes a volume group on the data partition", async () => {
    const dev = await loop("lvm.img", 3 * GiB);
    await install({ mode: "install", target: dev, imagePath: image, data: "lvm", diskEnv: env });
    const plan = planDisk(3 * GiB);
    const data = await partitionDevice(dev, plan.partitions.find((p) => p.role === "data")!.number);
    const { stdout } = await run("pvs", ["--noheadings", "-o", "pv_name,vg_name,pv_size", "--units", "b", "--nosuffix", data]);
    const [pv, vg, size] = stdout.trim().split(/\s+/);
    assert.equal(pv, data);
    assert.equal(vg, DATA_VOLUME_GROUP);
    assert.ok(Number(size) > 1000 * MiB);
    // The group is left inactive, so the disk is not held.
    assert.deepEqual((await diskInfo(dev, env)).holders, []);
    await run("vgremove", ["-ff", "-y", DATA_VOLUME_GROUP]);
  });
});
