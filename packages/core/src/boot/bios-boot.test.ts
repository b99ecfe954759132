import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { LayoutError } from "../errors.ts";
import { patchBiosBoot } from "./bios-boot.ts";

const GRUB_PC = "/usr/lib/grub/i386-pc";

describe("BIOS boot patching (GRUB's boot.img + core.img)", () => {
  it("patches boot.img with core.img's sector and keeps the disk's partition table", async () => {
    const boot = await readFile(`${GRUB_PC}/boot.img`);
    const diskboot = await readFile(`${GRUB_PC}/diskboot.img`);
    const core = Buffer.concat([diskboot, Buffer.alloc(40 * 512 + 100, 0xab)]);
    const mbr = Buffer.alloc(512, 0);
    mbr.fill(0x11, 0x1be, 0x1fe); // a partition table
    mbr[0x1fe] = 0x55;
    mbr[0x1ff] = 0xaa;
    const r = patchBiosBoot(boot, core, mbr, 34, 2014);
    assert.equal(r.mbr.length, 512);
    assert.equal(r.mbr.readBigUInt64LE(0x5c), 34n);
    assert.equal(r.mbr[0x64], 0xff);
    assert.deepEqual([...r.mbr.subarray(0x66, 0x68)], [0x90, 0x90]);
    assert.deepEqual(r.mbr.subarray(0x1b8), mbr.subarray(0x1b8), "partition table and signature kept");
    assert.deepEqual(r.mbr.subarray(0, 0x5c), boot.subarray(0, 0x5c), "boot code unchanged");
    const sectors = Math.ceil(core.length / 512);
    assert.equal(r.core.length, sectors * 512);
    assert.equal(r.core.readBigUInt64LE(500), 35n);
    assert.equal(r.core.readUInt16LE(508), sectors - 1);
    assert.equal(r.core.readUInt16LE(510), 0x820);
    assert.equal(r.core.readUInt16LE(488 + 8), 0, "terminator after the first blocklist");
  });

  it("refuses a core.img that does not fit the BIOS boot partition", async () => {
    const boot = await readFile(`${GRUB_PC}/boot.img`);
    assert.throws(() => patchBiosBoot(boot, Buffer.alloc(3000 * 512), Buffer.alloc(512), 34, 2014), LayoutError);
    assert.throws(() => patchBiosBoot(Buffer.alloc(100), Buffer.alloc(1024), Buffer.alloc(512), 34, 2014), LayoutError);
  });
});
