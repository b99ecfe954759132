/**
 * VM tier, qx-update: updates and power cuts (one VM, boots shared by the scenarios;
 * the rollback scenarios are in rollback.test.ts, on a second VM that make test runs
 * beside this one):
 *  1. bad images refused in the guest (same version, unsigned), boot env untouched;
 *  2. power cut #1 at a random point of an A→B install → boots a good slot;
 *  3. A→B update **through the HTTPS API** (the image uploaded from the host with its
 *     signature header, as an admin would), torn primary GRUB env (half a block), reboot
 *     → B on trial from the backup copy, health gate marks it good, env repaired;
 *     `status` shows it;
 *  4. B→A is a downgrade: qx-update refuses it (exit 3); installed **through the web UI**
 *     in chromium with "allow an older version" ticked; power cut #2 at a random point
 *     of the first trial boot → the next boot continues the trial and marks A good.
 * Needs QX_DISK, QX_SQUASHFS and QX_SQUASHFS_NEXT (see lib/update-session.ts).
 */
import assert from "node:assert/strict";
import { describe } from "node:test";
import { BOOT, rand, sleep, slot, updateSession } from "./lib/update-session.ts";

describe("qx-update: updates and power cuts (VM)", { timeout: 40 * 60_000 }, () => {
  const u = updateSession("update", []);

  u.step("boots A; bad images are refused in the guest with the boot env untouched", async () => {
    await u.up();
    const s0 = await u.settled();
    assert.equal(s0.booted, "A");
    const env0 = await u.vm.agent.check("/usr/local/bin/qx-update status --json | grep -v '\"at\"'");
    const same = await u.vm.agent.sh("/usr/local/bin/qx-update --image /mnt/upd/base.squashfs", 300_000);
    assert.equal(same.exitCode, 3);
    assert.match(same.stderr, /is the running version/);
    const unsigned = await u.vm.agent.sh("cp /mnt/upd/next.squashfs /mnt/upd/next.squashfs.sha256 /tmp/ && /usr/local/bin/qx-update --image /tmp/next.squashfs", 300_000);
    assert.equal(unsigned.exitCode, 3);
    assert.match(unsigned.stderr, /not signed/);
    await u.vm.agent.check("rm -f /tmp/next.squashfs*");
    assert.equal(await u.vm.agent.check("/usr/local/bin/qx-update status --json | grep -v '\"at\"'"), env0);
  });

  u.step("power cut #1 at a random point of an A→B install: boots a good slot", async () => {
    const { seconds, status: s } = await u.cutDuringInstall("next.squashfs", 3, 40);
    process.stdout.write(`# cut #1 after ${seconds.toFixed(1)} s: booted ${s.booted} (${slot(s, "A").status}/${slot(s, "B").status})\n`);
  });

  u.step("A→B update through the API, torn primary GRUB env: B boots on trial, is marked good, env repaired; status shows it", async () => {
    let s = await u.status();
    if (s.booted === "B") {
      // Cut #1 landed after the switch: B came up and was marked good; go back to A first.
      await u.vm.agent.check("/usr/local/bin/qx-update rollback", 120_000);
      await u.reboot();
      await u.vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
      await u.up();
      s = await u.settled();
    }
    assert.equal(s.booted, "A");
    const t0 = Date.now();
    const { result, seconds } = await u.installViaApi("next.squashfs");
    u.timing.installViaApi = seconds;
    assert.equal(result.slot, "B");
    s = await u.status();
    assert.equal(slot(s, "B").status, "trying");
    // A torn write of the first copy: half a block of garbage over its start.
    await u.vm.agent.check(
      "mkdir -p /run/qx-t && mount -t vfat -o iocharset=iso8859-1 /dev/disk/by-partlabel/QX_EFI /run/qx-t && dd if=/dev/urandom of=/run/qx-t/grub/grubenv bs=512 count=1 conv=notrunc,fsync 2>/dev/null && umount /run/qx-t",
    );
    s = await u.status();
    assert.equal(s.env.source, "backup");
    await u.reboot();
    await u.vm.waitFor(/Quantix-OS: booting slot B/, BOOT);
    await u.up();
    s = await u.settled();
    u.timing.updateToHealthy = (Date.now() - t0) / 1000;
    assert.equal(s.booted, "B");
    assert.equal(s.runningVersion, u.next);
    assert.deepEqual(s.env.problems, []);
    assert.equal(s.env.source, "primary");
    assert.equal(slot(s, "A").status, "good");
    const text = await u.vm.agent.check("/usr/local/bin/qx-update status");
    assert.match(text, new RegExp(`slot B: good {2}version ${u.next.replace(/\./g, "\\.")} {2}\\[booted, primary\\]`));
    assert.match(await u.vm.agent.check("cat /quantix/update/history.json"), /env-repaired/);
  });

  u.step("B→A is a downgrade: refused by qx-update, installed through the web UI when allowed; power cut #2 during the first trial boot: the trial continues and A is marked good", async () => {
    const refused = await u.vm.agent.sh("/usr/local/bin/qx-update --image /mnt/upd/base.squashfs", 300_000);
    assert.equal(refused.exitCode, 3, refused.stderr);
    assert.match(refused.stderr, /is older than the running .*downgrades are refused/);
    assert.equal(slot(await u.status(), "A").status, "good", "the refusal touched nothing");
    u.timing.installViaWebUi = (await u.installViaWebUi("base.squashfs", { allowDowngrade: true })).seconds;
    const s0 = await u.status();
    assert.equal(slot(s0, "A").status, "trying");
    assert.equal(s0.nextBoot, "A");
    await u.reboot();
    await u.vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
    const t = rand(5, 90);
    await sleep(t * 1000);
    await u.vm.reset();
    await u.up();
    const s = await u.settled();
    process.stdout.write(`# cut #2 ${t.toFixed(1)} s into the trial boot: booted ${s.booted}\n`);
    assert.equal(s.booted, "A");
    assert.equal(s.runningVersion, u.base);
    assert.equal(slot(s, "B").status, "good");
  });

});
