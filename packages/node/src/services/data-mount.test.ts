import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { MIN_DISK_BYTES, partition, planDisk, type RunOptions, run, sgdiskArgs } from "@quantix/core";
import { type DataEnv, defaultDataEnv, findPartitionsByName, isZeroed, mountData, mountedSource, unmountData, ZERO_CHECK_BYTES } from "./data-mount.ts";

const DATA = partition("data");

async function fakeSys(dir: string, entries: Record<string, Record<string, string>>): Promise<void> {
  for (const [name, kv] of Object.entries(entries)) {
    await mkdir(join(dir, "class/block", name), { recursive: true });
    await writeFile(join(dir, "class/block", name, "uevent"), `${Object.entries(kv).map(([k, v]) => `${k}=${v}`).join("\n")}\n`);
  }
}

describe("data partition lookup", () => {
  it("finds the partition by the layout's GPT name, in sysfs order", async () => {
    const sys = await mkdtemp(join(tmpdir(), "qx-sysblk-"));
    try {
      await fakeSys(sys, {
        sda: { MAJOR: "8", MINOR: "0", DEVNAME: "sda", DEVTYPE: "disk" },
        sda4: { DEVNAME: "sda4", DEVTYPE: "partition", PARTN: "4", PARTNAME: partition("config").gptName },
        sda5: { DEVNAME: "sda5", DEVTYPE: "partition", PARTN: "5", PARTNAME: DATA.gptName },
        sdb1: { DEVNAME: "sdb1", DEVTYPE: "partition", PARTNAME: `${DATA.gptName}_OLD` },
      });
      assert.deepEqual(await findPartitionsByName(DATA.gptName, { sysRoot: sys, devRoot: "/dev" }), ["/dev/sda5"]);
    } finally {
      await rm(sys, { recursive: true, force: true });
    }
  });

  it("reads the mount point's source from mountinfo (the top of a stack wins)", () => {
    const mi =
      "22 1 0:21 / / rw - overlay overlay rw\n" +
      "40 22 259:5 / /data rw,noatime shared:1 - xfs /dev/vda5 rw\n" +
      "41 22 259:4 / /quantix rw - ext4 /dev/vda4 rw\n";
    assert.equal(mountedSource(mi, "/data"), "/dev/vda5");
    assert.equal(mountedSource(mi, "/data2"), null);
    assert.equal(mountedSource(`${mi}50 40 7:0 / /data rw - tmpfs tmpfs rw\n`, "/data"), "tmpfs");
  });
});

describe("mountData decisions (fake runner, a plain file as the device)", () => {
  let dir = "";
  let env: DataEnv;
  let calls: string[][] = [];
  let blkid: { exitCode: number; stdout: string } = { exitCode: 2, stdout: "" };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-datamount-"));
    await fakeSys(join(dir, "sys"), { vda5: { DEVNAME: "vda5", PARTNAME: DATA.gptName } });
    await mkdir(join(dir, "dev"));
    await writeFile(join(dir, "dev/vda5"), Buffer.alloc(2 * ZERO_CHECK_BYTES));
    await writeFile(join(dir, "mountinfo"), "22 1 0:21 / / rw - overlay overlay rw\n");
    calls = [];
    env = defaultDataEnv({
      sysRoot: join(dir, "sys"),
      devRoot: join(dir, "dev"),
      mountpoint: join(dir, "data"),
      mountinfo: join(dir, "mountinfo"),
      statusFile: join(dir, "run/data-mount.json"),
      log: () => {},
      run: async (cmd: string, args: readonly string[], _o?: RunOptions) => {
        calls.push([cmd, ...args]);
        if (cmd === "blkid") return { ...blkid, stderr: "", signal: null };
        return { stdout: "", stderr: "", exitCode: 0, signal: null };
      },
    });
  });

  const tools = () => calls.map((c) => c[0]);

  it("a blank partition (no filesystem, first MiB zero) is formatted with the layout's label, then mounted", async () => {
    const r = await mountData(env);
    assert.equal(r.state, "mounted");
    assert.equal(r.formatted, true);
    const dev = join(dir, "dev/vda5");
    assert.deepEqual(calls, [
      ["blkid", "-p", "-o", "value", "-s", "TYPE", dev],
      ["mkfs.xfs", "-q", "-L", DATA.label!, dev],
      ["mount", "-t", "xfs", "-o", "noatime", dev, env.mountpoint],
    ]);
    assert.deepEqual((await readdir(env.mountpoint)).sort(), ["images", "isos"]);
    assert.equal(JSON.parse(await readFile(env.statusFile, "utf8")).state, "mounted");
  });

  it("an existing XFS is mounted, never formatted", async () => {
    blkid = { exitCode: 0, stdout: "xfs\n" };
    const r = await mountData(env);
    assert.equal(r.state, "mounted");
    assert.deepEqual(tools(), ["blkid", "mount"]);
  });

  it("another filesystem is refused: no mkfs, no mount", async () => {
    blkid = { exitCode: 0, stdout: "ext4\n" };
    const r = await mountData(env);
    assert.equal(r.state, "refused");
    assert.match(r.reason, /holds ext4, not xfs; not formatting/);
    assert.deepEqual(tools(), ["blkid"]);
  });

  it("no known filesystem but data in the first MiB is refused", async () => {
    blkid = { exitCode: 2, stdout: "" };
    const buf = Buffer.alloc(2 * ZERO_CHECK_BYTES);
    buf[ZERO_CHECK_BYTES - 1] = 0x5a;
    await writeFile(join(dir, "dev/vda5"), buf);
    const r = await mountData(env);
    assert.equal(r.state, "refused");
    assert.match(r.reason, /not blank/);
    assert.deepEqual(tools(), ["blkid"]);
    await assert.rejects(stat(join(env.mountpoint, "images")), "no directories on an unmounted /data");
  });

  it("isZeroed looks at the first MiB only", async () => {
    const buf = Buffer.alloc(2 * ZERO_CHECK_BYTES);
    buf[ZERO_CHECK_BYTES] = 1;
    await writeFile(join(dir, "f"), buf);
    assert.equal(await isZeroed(join(dir, "f")), true);
    buf[0] = 1;
    await writeFile(join(dir, "f"), buf);
    assert.equal(await isZeroed(join(dir, "f")), false);
  });

  it("blkid's ambivalent result (exit 8) fails without touching the partition", async () => {
    blkid = { exitCode: 8, stdout: "" };
    const r = await mountData(env);
    assert.equal(r.state, "failed");
    assert.match(r.reason, /several signatures/);
    assert.deepEqual(tools(), ["blkid"]);
  });

  it("no QX_DATA partition: not-found, nothing run", async () => {
    await rm(join(dir, "sys"), { recursive: true });
    const r = await mountData(env);
    assert.equal(r.state, "not-found");
    assert.deepEqual(calls, []);
  });

  it("already mounted: only the directories are made", async () => {
    await writeFile(env.mountinfo, `40 22 259:5 / ${env.mountpoint} rw - xfs ${join(dir, "dev/vda5")} rw\n`);
    const r = await mountData(env);
    assert.equal(r.state, "already-mounted");
    assert.deepEqual(calls, []);
    assert.deepEqual((await readdir(env.mountpoint)).sort(), ["images", "isos"]);
  });
});

describe("mountData on a real loop device (integration)", () => {
  let dir = "";
  let image = "";
  let loop = "";
  let env: DataEnv;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-dataloop-"));
    image = join(dir, "disk.img");
    await run("truncate", ["-s", String(MIN_DISK_BYTES), image]);
    await run("sgdisk", [...sgdiskArgs(planDisk(MIN_DISK_BYTES)), image]);
    loop = (await run("losetup", ["-f", "--show", image])).stdout.trim();
    await run("partx", ["-a", loop], { allowFailure: true });
    // A sysfs of our own loop device only (other tests may have QX_DATA loop devices too).
    // Partitions added by partx (BLKPG) carry no PARTNAME in their uevent, unlike those the
    // kernel finds itself on a real disk: add the GPT name blkid reads from the entry.
    const name = loop.replace("/dev/", "");
    const sys = join(dir, "sys");
    for (const e of await readdir("/sys/class/block")) {
      if (e !== name && !e.startsWith(`${name}p`)) continue;
      let uevent = await readFile(join("/sys/class/block", e, "uevent"), "utf8");
      if (e !== name && !/^PARTNAME=/m.test(uevent)) {
        const gptName = (await run("blkid", ["-p", "-o", "value", "-s", "PART_ENTRY_NAME", `/dev/${e}`], { allowFailure: true })).stdout.trim();
        if (gptName) uevent += `PARTNAME=${gptName}\n`;
      }
      await mkdir(join(sys, "class/block", e), { recursive: true });
      await writeFile(join(sys, "class/block", e, "uevent"), uevent);
    }
    env = defaultDataEnv({ sysRoot: sys, mountpoint: join(dir, "data"), statusFile: join(dir, "status.json"), log: () => {} });
  });
  after(async () => {
    if (env) await unmountData(env).catch(() => {});
    if (loop) {
      await run("partx", ["-d", loop], { allowFailure: true });
      await run("losetup", ["-d", loop], { allowFailure: true });
    }
    await rm(dir, { recursive: true, force: true });
  });

  it("formats the blank QX_DATA partition as XFS once, mounts it, remounts it without formatting", async () => {
    const part = `${loop}p${DATA.number}`;
    const first = await mountData(env);
    assert.equal(first.device, part);
    assert.equal(first.state, "mounted", first.reason);
    assert.equal(first.formatted, true);
    const probe = (await run("blkid", ["-p", "-o", "export", part])).stdout;
    assert.match(probe, /^TYPE=xfs$/m);
    assert.match(probe, new RegExp(`^LABEL=${DATA.label}$`, "m"));
    assert.deepEqual((await readdir(env.mountpoint)).filter((n) => !n.startsWith(".")).sort(), ["images", "isos"]);
    await writeFile(join(env.mountpoint, "images/keep.qcow2"), "vm disk");

    assert.equal((await mountData(env)).state, "already-mounted");
    assert.equal(await unmountData(env), true);
    const again = await mountData(env);
    assert.equal(again.state, "mounted");
    assert.equal(again.formatted, false);
    assert.equal(await readFile(join(env.mountpoint, "images/keep.qcow2"), "utf8"), "vm disk", "data survives");
    await unmountData(env);
  });

  it("refuses a partition holding another filesystem and leaves it intact", async () => {
    const part = `${loop}p${DATA.number}`;
    await run("wipefs", ["-a", "-q", part]);
    await run("mkfs.ext4", ["-q", "-F", part]);
    const r = await mountData(env);
    assert.equal(r.state, "refused", r.reason);
    assert.match((await run("blkid", ["-p", "-o", "value", "-s", "TYPE", part])).stdout, /ext4/);
    assert.equal(await unmountData(env), false, "/data left unmounted");
  });
});
