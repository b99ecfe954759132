import assert from "node:assert/strict";
import { mkdtemp, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { LayoutError } from "./errors.ts";
import { run } from "./exec.ts";
import { GiB, layoutShell, MiB, MIN_DISK_BYTES, PARTITIONS, partition, planDisk, SECTOR, sgdiskArgs } from "./layout.ts";

describe("layout", () => {
  it("has the seed's five partitions in order plus a BIOS boot partition in the gap", () => {
    const byNumber = [...PARTITIONS].sort((a, b) => a.number - b.number).map((p) => [p.number, p.gptName, p.sizeBytes]);
    assert.deepEqual(byNumber, [
      [1, "QX_EFI", 100 * MiB],
      [2, "QX_SYSTEM_A", 300 * MiB],
      [3, "QX_SYSTEM_B", 300 * MiB],
      [4, "QX_CONFIG", 100 * MiB],
      [5, "QX_DATA", null],
      [6, "QX_BIOS", null],
    ]);
    assert.equal(partition("efi").typeGuid, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
    assert.equal(partition("config").mountpoint, "/quantix");
    assert.equal(partition("data").mountpoint, "/data");
  });

  for (const size of [MIN_DISK_BYTES, 8 * GiB, 2 * 1024 * GiB + 12345 * SECTOR]) {
    it(`plans a ${size}-byte disk: aligned, contiguous, inside the disk`, () => {
      const plan = planDisk(size);
      const aligned = plan.partitions.filter((p) => p.role !== "bios");
      let expected = MiB;
      for (const p of aligned) {
        assert.equal(p.offsetBytes, expected, `${p.gptName} starts where the previous ended`);
        assert.equal(p.offsetBytes % MiB, 0, `${p.gptName} is 1 MiB aligned`);
        assert.equal((p.endSector + 1) * SECTOR - p.offsetBytes, p.sizeBytes);
        expected += p.sizeBytes;
      }
      const data = plan.partitions.find((p) => p.role === "data");
      assert.ok(data && data.sizeBytes >= GiB, "data keeps at least 1 GiB");
      assert.ok(expected <= size - 33 * SECTOR, "room for the backup GPT");
      const bios = plan.partitions.find((p) => p.role === "bios");
      assert.ok(bios && bios.endSector < 2048 && bios.startSector >= 34);
    });
  }

  it("refuses a disk below the minimum with a clear message", () => {
    assert.throws(() => planDisk(MIN_DISK_BYTES - 1), (e: unknown) => e instanceof LayoutError && /smaller than/.test(e.message));
    assert.throws(() => planDisk(-5), LayoutError);
    assert.throws(() => planDisk(Number.NaN), LayoutError);
  });

  it("exports shell variables that a shell can source", async () => {
    const text = layoutShell(planDisk(4 * GiB));
    const { stdout } = await run("sh", ["-c", `eval "$1"; echo "$QX_PART_SYSTEM_B_OFFSET_BYTES $QX_PART_DATA_NAME $QX_ESP_GRUB_ENV"`, "sh", text]);
    assert.equal(stdout.trim(), `${(1 + 100 + 300) * MiB} QX_DATA /grub/grubenv`);
  });

  it("sgdisk creates exactly the planned GPT on an image file (integration)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "qx-layout-"));
    try {
      const img = join(dir, "disk.img");
      const size = 3 * GiB;
      await run("truncate", ["-s", String(size), img]);
      await truncate(img, size);
      const plan = planDisk(size);
      await run("sgdisk", [...sgdiskArgs(plan), img]);
      const { stdout } = await run("sgdisk", ["--print", img]);
      for (const p of plan.partitions) {
        const row = new RegExp(`^\\s*${p.number}\\s+${p.startSector}\\s+${p.endSector}\\s+.*\\s${p.typeCode.toUpperCase()}\\s+${p.gptName}\\s*$`, "m");
        assert.match(stdout, row, `row for ${p.gptName}`);
      }
      await run("sgdisk", ["--verify", img]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
