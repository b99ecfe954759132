/**
 * bench/update-powercut: the reliability run. N times (default 20): start
 * `/usr/local/bin/qx-update --image <the other version> --allow-downgrade --reboot` in the guest
 * (every other install goes back a version), cut the power
 * (QMP system_reset) at a random moment between the start of the install and the
 * end of the new slot's first boot (write, boot-choice switch, first boot, mark-good
 * all covered), then require the node to come back healthy on a slot marked good.
 * Prints each cut and "N/20 recovered".
 *
 * A cut is, at random, a QMP system_reset (the reset line: QEMU keeps running) or a kill
 * of QEMU, started again on the same disk and firmware variables (the power cord).
 * A cut that does not come back on its own within 15 minutes is reported with what
 * QEMU says about the guest (stuck in the firmware, or in the OS), then the machine
 * gets one cold power cycle: the report says whether the disk then boots a good slot.
 * The run goes on either way; the count of recovered cuts counts only the cuts that
 * came back by themselves.
 *   QX_DISK=... QX_SQUASHFS=... QX_SQUASHFS_NEXT=... npx tsx bench/update-powercut.ts [--cuts 20] [--window 240]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Vm } from "../tests/vm/lib/qemu.ts";
import { imageVersion, MOUNT_MEDIA, mediaIso } from "../tests/vm/lib/update-media.ts";

const { values } = parseArgs({ options: { cuts: { type: "string" }, window: { type: "string" } } });
const cuts = Number(values.cuts ?? 20);
const windowS = Number(values.window ?? 240);
const { QX_DISK: DISK, QX_SQUASHFS: BASE, QX_SQUASHFS_NEXT: NEXT } = process.env;
if (!DISK || !BASE || !NEXT) {
  console.error("QX_DISK, QX_SQUASHFS and QX_SQUASHFS_NEXT must be set");
  process.exit(2);
}
const versions = { "base.squashfs": imageVersion(BASE), "next.squashfs": imageVersion(NEXT) };
const work = mkdtempSync(join(tmpdir(), "qx-bench-powercut-"));
const iso = mediaIso({ "base.squashfs": BASE, "next.squashfs": NEXT }, work);
const vm = await Vm.start({ name: "powercut", disk: DISK, iso, watchdog: true });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Status {
  booted: "A" | "B" | null;
  runningVersion: string;
  slots: { slot: string; status: string }[];
}
async function recovered(timeoutMs: number): Promise<Status | null> {
  const deadline = Date.now() + timeoutMs;
  try {
    await vm.waitHealth(timeoutMs);
    await vm.agent.waitReady(60_000);
  } catch {
    return null;
  }
  while (Date.now() < deadline) {
    const r = await vm.agent.sh("/usr/local/bin/qx-update status --json").catch(() => null);
    if (r?.exitCode === 0) {
      const s = JSON.parse(r.stdout) as Status;
      if (s.booted && s.slots.find((x) => x.slot === s.booted)?.status === "good") return s;
    }
    await sleep(5000);
  }
  return null;
}

let ok = 0;
let s = await recovered(600_000);
if (!s) throw new Error("the disk image does not boot to a healthy node");
for (let i = 1; i <= cuts; i++) {
  await vm.agent.check(MOUNT_MEDIA);
  const file = s.runningVersion === versions["next.squashfs"] ? "base.squashfs" : "next.squashfs";
  await vm.agent.check(`(/usr/local/bin/qx-update --image /mnt/upd/${file} --allow-downgrade --reboot >/tmp/qx-update.out 2>&1) >/dev/null 2>&1 &`);
  const t = Math.random() * windowS;
  const kind = Math.random() < 0.5 ? "reset" : "power off";
  await sleep(t * 1000);
  // Serial output after the cut (a power cycle starts a new log).
  let after = vm.serial().length;
  if (kind === "reset") await vm.reset();
  else {
    await vm.powerCycle();
    after = 0;
  }
  const t0 = Date.now();
  s = await recovered(900_000);
  if (s) {
    ok++;
    console.log(`cut ${i}/${cuts} (${kind}) at ${t.toFixed(1)} s: booted ${s.booted} (${s.runningVersion}) healthy and good after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    continue;
  }
  const reachedGrub = /Quantix-OS: (boot environment|booting slot)/.test(vm.serial().slice(after));
  console.log(
    `cut ${i}/${cuts} (${kind}) at ${t.toFixed(1)} s: NOT recovered within 900 s; ${reachedGrub ? "GRUB ran after the cut" : "nothing on the serial console after the cut (GRUB never ran)"}; ${await vm.diagnose()}`,
  );
  await vm.powerCycle();
  const t1 = Date.now();
  s = await recovered(900_000);
  console.log(
    s
      ? `  after one cold power cycle: booted ${s.booted} (${s.runningVersion}) healthy and good after ${((Date.now() - t1) / 1000).toFixed(0)} s`
      : "  after one cold power cycle: still not healthy on a good slot; stopping",
  );
  if (!s) break;
}
console.log(`${ok}/${cuts} recovered`);
await vm.stop();
if (ok === cuts) {
  vm.cleanup();
  rmSync(work, { recursive: true, force: true });
} else console.log(`logs kept: ${vm.serialLog}`);
