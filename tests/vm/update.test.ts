/**
 * VM tier, qx-update (one VM, boots shared by the scenarios; TCG ≈ 2 min a boot):
 *  1. bad images refused in the guest (same version, unsigned), boot env untouched;
 *  2. power cut #1 at a random point of an A→B install → boots a good slot;
 *  3. A→B update, torn primary GRUB env (half a block), reboot → B on trial from the
 *     backup copy, health gate marks it good, env repaired; `status` shows it;
 *  4. B→A update, power cut #2 at a random point of the first trial boot → the next
 *     boot continues the trial and marks A good;
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
 *
 * Needs QX_DISK (version V in slot A), QX_SQUASHFS (V, signed) and QX_SQUASHFS_NEXT
 * (V-next, signed, .sha256/.sig beside it), all built with the same signing key.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { Vm } from "./lib/qemu.ts";
import { trackedSteps } from "./lib/steps.ts";
import { brokenImage, imageVersion, MOUNT_MEDIA, mediaIso } from "./lib/update-media.ts";

const DISK = process.env.QX_DISK;
const BASE = process.env.QX_SQUASHFS;
const NEXT = process.env.QX_SQUASHFS_NEXT;
const BOOT = 300_000;
/** QX_VM_EXTENDED=1 adds the scenarios that repeat a mechanism already covered (crash-looping qx-node: the health gate). */
const EXTENDED = process.env.QX_VM_EXTENDED === "1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);

interface SlotView {
  slot: "A" | "B";
  status: string;
  tries: number;
  version: string | null;
  reason: string | null;
}
interface Status {
  booted: "A" | "B" | null;
  trying: boolean;
  runningVersion: string;
  nextBoot: "A" | "B";
  slots: SlotView[];
  env: { source: string; problems: string[] };
  lastRollback: { slot: string; reason: string; why: string } | null;
}

describe("qx-update (VM)", { timeout: 40 * 60_000 }, () => {
  let vm: Vm;
  let work: string;
  const steps = trackedSteps();
  const step = steps.step;
  let base: string;
  let next: string;
  const timing: Record<string, number> = {};
  before(async () => {
    assert.ok(DISK && BASE && NEXT, "QX_DISK, QX_SQUASHFS and QX_SQUASHFS_NEXT must be set (make vm-test)");
    base = imageVersion(BASE);
    next = imageVersion(NEXT);
    assert.notEqual(base, next);
    work = mkdtempSync(join(tmpdir(), "qx-vm-update-media-"));
    const media: Record<string, string> = { "base.squashfs": BASE, "next.squashfs": NEXT };
    media["panic.squashfs"] = brokenImage(NEXT, `${next}-panic`, "panic", work);
    media["hang.squashfs"] = brokenImage(NEXT, `${next}-hang`, "hang", work);
    if (EXTENDED) media["crash.squashfs"] = brokenImage(NEXT, `${next}-crash`, "crash-node", work);
    const iso = mediaIso(media, work);
    vm = await Vm.start({ name: "update", disk: DISK, iso, watchdog: true });
    process.stdout.write(`# VM run dir ${vm.runDir} (accel ${vm.accel}); ${base} → ${next}\n`);
  });
  after(async () => {
    await vm?.stop();
    process.stdout.write(`# timings (s): ${JSON.stringify(timing)}\n`);
    if (steps.passed) {
      vm?.cleanup();
      rmSync(work, { recursive: true, force: true });
    } else process.stdout.write(`# VM logs kept: ${vm?.serialLog}\n`);
  });

  const status = async (): Promise<Status> => JSON.parse(await vm.agent.check("/usr/local/bin/qx-update status --json", 120_000)) as Status;
  const slot = (s: Status, n: "A" | "B") => s.slots.find((x) => x.slot === n) as SlotView;
  const up = async () => {
    await vm.waitHealth(BOOT);
    await vm.agent.waitReady(60_000);
    await vm.agent.check(MOUNT_MEDIA);
  };
  /** Waits until the booted slot is good (boot-check ran), returns the status. */
  const settled = async (timeoutMs = 420_000): Promise<Status> => {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      const s = await status().catch((e: Error) => {
        last = e.message;
        return null;
      });
      if (s?.booted && slot(s, s.booted).status === "good") return s;
      if (Date.now() > deadline) throw new Error(`booted slot never good: ${s ? JSON.stringify(s) : last}`);
      await sleep(5000);
    }
  };
  const reboot = async () => {
    vm.mark();
    await vm.agent.sh("(sleep 1; reboot) >/dev/null 2>&1 &");
  };
  /** Starts an install in the background; resolves at once. */
  const startInstall = (file: string) => vm.agent.check(`(/usr/local/bin/qx-update --image /mnt/upd/${file} >/tmp/qx-update.out 2>&1; echo "exit $?" >>/tmp/qx-update.out) >/dev/null 2>&1 &`);
  const install = async (file: string) => {
    const t0 = Date.now();
    const out = await vm.agent.sh(`/usr/local/bin/qx-update --image /mnt/upd/${file} --json`, 600_000);
    assert.equal(out.exitCode, 0, out.stderr);
    return { result: JSON.parse(out.stdout) as { slot: string; version: string }, seconds: (Date.now() - t0) / 1000 };
  };

  step("boots A; bad images are refused in the guest with the boot env untouched", async () => {
    await up();
    const s0 = await settled();
    assert.equal(s0.booted, "A");
    const env0 = await vm.agent.check("/usr/local/bin/qx-update status --json | grep -v '\"at\"'");
    const same = await vm.agent.sh("/usr/local/bin/qx-update --image /mnt/upd/base.squashfs", 300_000);
    assert.equal(same.exitCode, 3);
    assert.match(same.stderr, /is the running version/);
    const unsigned = await vm.agent.sh("cp /mnt/upd/next.squashfs /mnt/upd/next.squashfs.sha256 /tmp/ && /usr/local/bin/qx-update --image /tmp/next.squashfs", 300_000);
    assert.equal(unsigned.exitCode, 3);
    assert.match(unsigned.stderr, /not signed/);
    await vm.agent.check("rm -f /tmp/next.squashfs*");
    assert.equal(await vm.agent.check("/usr/local/bin/qx-update status --json | grep -v '\"at\"'"), env0);
  });

  step("power cut #1 at a random point of an A→B install: boots a good slot", async () => {
    await startInstall("next.squashfs");
    const t = rand(3, 40);
    await sleep(t * 1000);
    await vm.reset();
    await up();
    const s = await settled();
    process.stdout.write(`# cut #1 after ${t.toFixed(1)} s: booted ${s.booted} (${slot(s, "A").status}/${slot(s, "B").status})\n`);
  });

  step("A→B update, torn primary GRUB env: B boots on trial, is marked good, env repaired; status shows it", async () => {
    let s = await status();
    if (s.booted === "B") {
      // Cut #1 landed after the switch: B came up and was marked good; go back to A first.
      await vm.agent.check("/usr/local/bin/qx-update rollback", 120_000);
      await reboot();
      await vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
      await up();
      s = await settled();
    }
    assert.equal(s.booted, "A");
    const t0 = Date.now();
    const { result, seconds } = await install("next.squashfs");
    timing.install = seconds;
    assert.equal(result.slot, "B");
    s = await status();
    assert.equal(slot(s, "B").status, "trying");
    // A torn write of the first copy: half a block of garbage over its start.
    await vm.agent.check(
      "mkdir -p /run/qx-t && mount -t vfat -o iocharset=iso8859-1 /dev/disk/by-partlabel/QX_EFI /run/qx-t && dd if=/dev/urandom of=/run/qx-t/grub/grubenv bs=512 count=1 conv=notrunc,fsync 2>/dev/null && umount /run/qx-t",
    );
    s = await status();
    assert.equal(s.env.source, "backup");
    await reboot();
    await vm.waitFor(/Quantix-OS: booting slot B/, BOOT);
    await up();
    s = await settled();
    timing.updateToHealthy = (Date.now() - t0) / 1000;
    assert.equal(s.booted, "B");
    assert.equal(s.runningVersion, next);
    assert.deepEqual(s.env.problems, []);
    assert.equal(s.env.source, "primary");
    assert.equal(slot(s, "A").status, "good");
    const text = await vm.agent.check("/usr/local/bin/qx-update status");
    assert.match(text, new RegExp(`slot B: good {2}version ${next.replace(/\./g, "\\.")} {2}\\[booted, primary\\]`));
    assert.match(await vm.agent.check("cat /quantix/update/history.json"), /env-repaired/);
  });

  step("B→A update; power cut #2 during the first trial boot: the trial continues and A is marked good", async () => {
    const { result } = await install("base.squashfs");
    assert.equal(result.slot, "A");
    await reboot();
    await vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
    const t = rand(5, 90);
    await sleep(t * 1000);
    await vm.reset();
    await up();
    const s = await settled();
    process.stdout.write(`# cut #2 ${t.toFixed(1)} s into the trial boot: booted ${s.booted}\n`);
    assert.equal(s.booted, "A");
    assert.equal(s.runningVersion, base);
    assert.equal(slot(s, "B").status, "good");
  });

  step("power cut #3 while installing a kernel-panic image; the broken slot is given up (boot did not complete)", async () => {
    await vm.agent.check("grep -q '^update:' /quantix/node.yaml || printf 'update:\\n  health_timeout: 60\\n  max_tries: 1\\n' >> /quantix/node.yaml; sync");
    await startInstall("panic.squashfs");
    const t = rand(1, 6);
    await sleep(t * 1000);
    await vm.reset();
    await up();
    let s = await settled();
    process.stdout.write(`# cut #3 ${t.toFixed(1)} s into the install: booted ${s.booted}, B ${slot(s, "B").status} (${slot(s, "B").reason})\n`);
    assert.equal(s.booted, "A");
    if (slot(s, "B").reason !== "boot-incomplete") {
      await install("panic.squashfs");
      const t0 = Date.now();
      await reboot();
      await vm.waitFor(/Quantix-OS: booting slot B/, BOOT);
      await vm.waitFor(/Kernel panic/, BOOT);
      await vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
      await up();
      s = await settled();
      timing.rollbackPanic = (Date.now() - t0) / 1000;
    }
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "boot-incomplete");
    assert.match(s.lastRollback?.why ?? "", /boot did not complete/);
  });

  step("a slot whose system image is gone (zeroed after the install) is given up by GRUB at once", async () => {
    await install("next.squashfs");
    // The install switched the boot choice to B on trial; now B loses its squashfs.
    await vm.agent.check("dd if=/dev/zero of=/dev/disk/by-partlabel/QX_SYSTEM_B bs=1M count=8 conv=fsync 2>/dev/null; sync");
    const t0 = Date.now();
    await reboot();
    await vm.waitFor(/slot B holds no loadable kernel or initramfs; marking it bad/, BOOT);
    await vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
    await up();
    const s = await settled();
    timing.rollbackEmptySlot = (Date.now() - t0) / 1000;
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "kernel-unloadable");
    assert.match(s.lastRollback?.why ?? "", /could not load the slot's kernel/);
  });

  step("a slot whose init hangs is reset by the watchdog and given up (boot did not complete)", async () => {
    // A short watchdog for this install only (written into the boot env by the install).
    await vm.agent.check("sed -i 's/^  max_tries: 1$/  max_tries: 1\\n  watchdog_timeout: 60/' /quantix/node.yaml && grep -q watchdog_timeout /quantix/node.yaml && sync");
    await install("hang.squashfs");
    await vm.agent.check("sed -i '/^  watchdog_timeout: 60$/d' /quantix/node.yaml && sync");
    const t0 = Date.now();
    await reboot();
    await vm.waitFor(/Quantix-OS: booting slot B/, BOOT);
    await vm.waitFor(/hangs in init on purpose/, BOOT);
    await vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
    await up();
    const s = await settled();
    timing.rollbackHang = (Date.now() - t0) / 1000;
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "boot-incomplete");
  });

  if (EXTENDED)
    step("a slot whose qx-node crash-loops fails its health gate and is rolled back", async () => {
      await install("crash.squashfs");
      const t0 = Date.now();
      await reboot();
      await vm.waitFor(/Quantix-OS: booting slot B/, BOOT);
      await vm.waitFor(/slot B marked bad, rebooting/, BOOT + 120_000);
      await vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
      await up();
      const s = await settled();
      timing.rollbackCrashLoop = (Date.now() - t0) / 1000;
      assert.equal(slot(s, "B").status, "bad");
      assert.match(slot(s, "B").reason ?? "", /^health:.*qx-node/);
    });

  step("a slot failing its health check (config) is marked bad with the reason and rolled back", async () => {
    // Settings are read once while node.yaml is valid (kept as its last-good copy), then it is broken.
    await vm.agent.check("/usr/local/bin/qx-update verify /mnt/upd/next.squashfs >/dev/null", 300_000);
    await install("next.squashfs");
    await vm.agent.check("echo 'bogus_key: 1' >> /quantix/node.yaml && sync");
    const t0 = Date.now();
    await reboot();
    await vm.waitFor(/Quantix-OS: booting slot B/, BOOT);
    await vm.waitFor(/slot B marked bad, rebooting/, BOOT + 120_000);
    await vm.waitFor(/Quantix-OS: booting slot A/, BOOT);
    await vm.waitHealth(BOOT, 503);
    timing.rollbackHealth = (Date.now() - t0) / 1000;
    await vm.agent.waitReady(60_000);
    await vm.agent.check("sed -i '/^bogus_key:/d' /quantix/node.yaml && sync");
    const s = await status();
    assert.equal(s.booted, "A");
    assert.equal(slot(s, "B").status, "bad");
    assert.equal(slot(s, "B").reason, "health:config");
    assert.match(s.lastRollback?.why ?? "", /health check failed: config/);
    assert.match(await vm.agent.check("/usr/local/bin/qx-update status"), /last rollback: slot B .*health check failed: config/);
  });
});
