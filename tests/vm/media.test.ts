/**
 * VM tier, boot media: the disk image under legacy BIOS (SeaBIOS → MBR boot.img →
 * core.img in QX_BIOS → the same grub.cfg) and the hybrid ISO under UEFI and BIOS
 * (live boot: the initramfs finds the medium by its label and copies the system image
 * into RAM). Each boot stops once the initramfs hands over to the system.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Vm } from "./lib/qemu.ts";

const DISK = process.env.QX_DISK;
const ISO = process.env.QX_ISO;

async function bootUntilSwitchRoot(name: string, opts: Parameters<typeof Vm.start>[0], grubLine: RegExp): Promise<void> {
  const vm = await Vm.start({ ...opts, name, memoryMiB: 2048 });
  let ok = false;
  try {
    await vm.waitFor(grubLine, 180_000);
    await vm.waitFor(/qx-init: switching to \/sbin\/init/, 360_000);
    ok = true;
  } finally {
    await vm.stop();
    if (ok) vm.cleanup();
    else process.stdout.write(`# VM logs kept: ${vm.serialLog}\n`);
  }
}

describe("boot media (VM)", { timeout: 25 * 60_000 }, () => {
  it("the disk image boots under legacy BIOS", async () => {
    assert.ok(DISK, "QX_DISK must name the disk image");
    await bootUntilSwitchRoot("bios-disk", { name: "bios-disk", disk: DISK, firmware: "bios" }, /Quantix-OS: booting slot A/);
  });

  it("the ISO boots live under UEFI", async () => {
    assert.ok(ISO, "QX_ISO must name the ISO");
    await bootUntilSwitchRoot("uefi-iso", { name: "uefi-iso", iso: ISO, firmware: "uefi" }, /Install Quantix-OS|Linux version/);
  });

  it("the ISO boots live under legacy BIOS", async () => {
    assert.ok(ISO, "QX_ISO must name the ISO");
    await bootUntilSwitchRoot("bios-iso", { name: "bios-iso", iso: ISO, firmware: "bios" }, /Install Quantix-OS|Linux version/);
  });
});
