/**
 * VM tier, qx-update: automatic rollback of broken slots (one VM, boots shared by the
 * scenarios; make test runs it beside update.test.ts). Slot A holds version V; each
 * scenario installs a broken V-next into B and reboots into it:
 *  5. power cut #3 at a random point of installing a kernel-panic image (max_tries 1)
 *     → the slot never boots, GRUB gives it up → back on A, status says
 *     "boot did not complete";
 *  6. a slot whose squashfs is gone (zeroed after the install) → GRUB cannot load its
 *     kernel, marks it bad "kernel-unloadable" and boots A in the same GRUB run;
 *  7. a slot whose init hangs → the watchdog (60 s for that install) resets it, GRUB
 *     gives it up → A, "boot did not complete";
 *  8. (QX_VM_EXTENDED=1) a slot whose qx-node crash-loops → health gate fails → A;
 *  9. a slot whose health check fails (node.yaml made invalid, health_timeout 60)
 *     → marked bad "health:config", reboot → back on A, status says why.
 * Needs QX_DISK, QX_SQUASHFS and QX_SQUASHFS_NEXT (see lib/update-session.ts).
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import { BOOT, slot, updateSession } from "./lib/update-session.ts";

/** QX_VM_EXTENDED=1 adds the scenarios that repeat a mechanism already covered (crash-looping qx-node: the health gate). */
const EXTENDED = process.env.QX_VM_EXTENDED === "1";

describe("qx-update: rollback of broken slots (VM)", { timeout: 40 * 60_000 }, () => {
  const u = updateSession("rollback", EXTENDED ? ["panic", "hang", "crash-node"] : ["panic", "hang"]);

  u.step("boots A (slot B empty)", async () => {
    await u.up();
    const s = await u.settled();
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "empty");
  });

  u.step("power cut #3 while installing a kernel-panic image; the broken slot is given up (boot did not complete)", async () => {
    await u.vm.agent.check("grep -q '^update:' /quantix/node.yaml || printf 'update:\\n  health_timeout: 60\\n  max_tries: 1\\n' >> /quantix/node.yaml; sync");
    const cut = await u.cutDuringInstall("panic.squashfs", 1, 6);
    let s = cut.status;
    process.stdout.write(`# cut #3 ${cut.seconds.toFixed(1)} s into the install: booted ${s.booted}, B ${slot(s, "B").status} (${slot(s, "B").reason})\n`);
    assert.equal(s.booted, "A");
    if (slot(s, "B").reason !== "boot-incomplete") {
      await u.install("panic.squashfs");
      s = await u.rollBack("rollbackPanic", [
        [/Quantix-OS: booting slot B/, BOOT],
        [/Kernel panic/, BOOT],
      ]);
    }
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "boot-incomplete");
    assert.match(s.lastRollback?.why ?? "", /boot did not complete/);
  });

  u.step("a slot whose system image is gone (zeroed after the install) is given up by GRUB at once", async () => {
    await u.install("next.squashfs");
    // The install switched the boot choice to B on trial; now B loses its squashfs.
    await u.vm.agent.check("dd if=/dev/zero of=/dev/disk/by-partlabel/QX_SYSTEM_B bs=1M count=8 conv=fsync 2>/dev/null; sync");
    const s = await u.rollBack("rollbackEmptySlot", [[/slot B holds no loadable kernel or initramfs; marking it bad/, BOOT]]);
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "kernel-unloadable");
    assert.match(s.lastRollback?.why ?? "", /could not load the slot's kernel/);
  });

  u.step("a slot whose init hangs is reset by the watchdog and given up (boot did not complete)", async () => {
    // A short watchdog for this install only (written into the boot env by the install).
    await u.vm.agent.check("sed -i 's/^  max_tries: 1$/  max_tries: 1\\n  watchdog_timeout: 60/' /quantix/node.yaml && grep -q watchdog_timeout /quantix/node.yaml && sync");
    await u.install("hang.squashfs");
    await u.vm.agent.check("sed -i '/^  watchdog_timeout: 60$/d' /quantix/node.yaml && sync");
    const s = await u.rollBack("rollbackHang", [
      [/Quantix-OS: booting slot B/, BOOT],
      [/hangs in init on purpose/, BOOT],
    ]);
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "boot-incomplete");
  });

  if (EXTENDED)
    u.step("a slot whose qx-node crash-loops fails its health gate and is rolled back", async () => {
      await u.install("crash-node.squashfs");
      const s = await u.rollBack("rollbackCrashLoop", [
        [/Quantix-OS: booting slot B/, BOOT],
        [/slot B marked bad, rebooting/, BOOT + 120_000],
      ]);
      assert.equal(slot(s, "B").status, "bad");
      assert.match(slot(s, "B").reason ?? "", /^health:.*qx-node/);
    });

  u.step("a slot failing its health check (config) is marked bad with the reason and rolled back", async () => {
    // Settings are read once while node.yaml is valid (kept as its last-good copy), then it is broken.
    await u.vm.agent.check("/usr/local/bin/qx-update verify /mnt/upd/next.squashfs >/dev/null", 300_000);
    await u.install("next.squashfs");
    await u.vm.agent.check("echo 'bogus_key: 1' >> /quantix/node.yaml && sync");
    const t0 = Date.now();
    await u.reboot();
    await u.vm.waitFor(/Quantix-OS: booting slot B/, BOOT);
    await u.vm.waitFor(/slot B marked bad, rebooting/, BOOT + 120_000);
    await u.vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
    await u.vm.waitHealth(BOOT, 503);
    u.timing.rollbackHealth = (Date.now() - t0) / 1000;
    await u.vm.agent.waitReady(60_000);
    await u.vm.agent.check("sed -i '/^bogus_key:/d' /quantix/node.yaml && sync");
    const s = await u.status();
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "health:config");
    assert.match(s.lastRollback?.why ?? "", /health check failed: config/);
    assert.match(await u.vm.agent.check("/usr/local/bin/qx-update status"), /last rollback: slot B .*health check failed: config/);
  });
});
