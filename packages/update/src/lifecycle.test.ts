/**
 * The update lifecycle over a fake ESP directory and a disk image file: A→B install,
 * GRUB's trial boot (core's bootAttempt), the health gate marking good or rolling
 * back, GRUB giving up a slot (boot-incomplete), B→A, torn/stale env repair,
 * interrupted installs, and crashes at every phase boundary.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bootAttempt, type BootState, DEFAULT_BOOT_SETTINGS, isBootable, readBootEnv, writeBootEnv } from "@quantix/core";
import { bootCheck, type HealthProbe } from "./boot-check.ts";
import { readHistory } from "./history.ts";
import { APPLY_PHASES, applyUpdate } from "./install.ts";
import { markGoodNow, readStatus, rollbackNow } from "./manage.ts";
import { type FakeNode, makeFakeNode, makeImage, makeSigningKey, type SigningKey, signFile, slotHash, tempDir } from "./test-support.ts";
import { fakeWatchdog } from "./watchdog.ts";

const healthy: HealthProbe = async () => ({ healthy: true, failing: [] });
const failing =
  (...names: string[]): HealthProbe =>
  async () => ({ healthy: false, failing: names });

/** What GRUB does at power-on, applied to the env on the fake ESP; returns the slot it boots. */
async function grubBoots(node: FakeNode): Promise<{ slot: "A" | "B"; trying: boolean }> {
  const env = await readBootEnv(node.esp);
  const d = bootAttempt(env.state);
  await writeBootEnv(node.esp, { state: d.state, settings: env.settings });
  await node.boot(d.slot, d.trying);
  return { slot: d.slot, trying: d.trying };
}

/** A fake clock: sleep advances it. */
function clock() {
  let t = 1_000_000;
  return { now: () => t, sleep: async (ms: number) => {
      t += ms;
    } };
}

async function fileSha(p: string): Promise<string> {
  return createHash("sha256").update(await fs.readFile(p)).digest("hex");
}

describe("update lifecycle", { timeout: 180_000 }, () => {
  let dir: string;
  let key: SigningKey;
  let next: string;
  let third: string;
  before(async () => {
    dir = await tempDir("life");
    key = await makeSigningKey("release");
    next = await makeImage(dir, { version: "1.1.0" });
    third = await makeImage(dir, { version: "1.2.0" });
    await signFile(next, key);
    await signFile(third, key);
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(key.home, { recursive: true, force: true });
  });

  it("A→B: writes slot B, puts it on trial with max_tries, marks good after a healthy trial boot; then B→A", async () => {
    const node = await makeFakeNode("1.0.0", [key]);
    const a0 = await slotHash(node, "A");
    const phases: string[] = [];
    const r = await applyUpdate(node.ctx(), { image: next, onProgress: (p) => {
        if (phases.at(-1) !== p) phases.push(p);
      } });
    assert.deepEqual(phases.filter((p) => !["write", "read-back"].includes(p)), ["verify", "begin", "switch", "done"]);
    assert.equal(r.slot, "B");
    assert.equal(await slotHash(node, "A"), a0, "the booted slot is never written");
    const region = await node.slots.region("B");
    const img = await fs.readFile(next);
    const fh = await fs.open(node.disk, "r");
    const back = Buffer.alloc(img.length);
    await fh.read(back, 0, img.length, region.offset);
    await fh.close();
    assert.ok(back.equals(img), "slot B holds the image byte for byte");
    let env = await readBootEnv(node.esp);
    assert.deepEqual(env.problems, []);
    assert.equal(env.state.primary, "B");
    assert.deepEqual(env.state.slots.B, { status: "trying", tries: 3, version: "1.1.0", reason: null });
    assert.equal(env.state.slots.A.status, "good");

    // Reboot: GRUB boots B on trial; the health gate passes.
    assert.deepEqual(await grubBoots(node), { slot: "B", trying: true });
    await node.setRunningVersion("1.1.0");
    const wd = fakeWatchdog();
    const c = clock();
    let rebooted = false;
    const res = await bootCheck({ ctx: node.ctx(), health: healthy, watchdog: wd, reboot: async () => {
      rebooted = true;
    }, ...c });
    assert.equal(res.outcome, "marked-good");
    assert.equal(rebooted, false);
    assert.deepEqual(wd.events, ["keepalive", "disarm"]);
    env = await readBootEnv(node.esp);
    assert.deepEqual(env.state.slots.B, { status: "good", tries: 0, version: "1.1.0", reason: null });
    const st = await readStatus(node.ctx());
    assert.equal(st.booted, "B");
    assert.equal(st.nextBoot, "B");
    assert.equal(st.lastUpdate?.version, "1.1.0");
    assert.equal(st.lastRollback, null);
    assert.deepEqual((await readHistory(node.ctx().historyPath)).map((e) => e.kind), ["installed", "good"]);

    // Second update, B→A.
    const b0 = await slotHash(node, "B");
    const r2 = await applyUpdate(node.ctx(), { image: third });
    assert.equal(r2.slot, "A");
    assert.equal(await slotHash(node, "B"), b0);
    assert.deepEqual(await grubBoots(node), { slot: "A", trying: true });
    await node.setRunningVersion("1.2.0");
    assert.equal((await bootCheck({ ctx: node.ctx(), health: healthy, watchdog: fakeWatchdog(), reboot: async () => undefined, ...clock() })).outcome, "marked-good");
    env = await readBootEnv(node.esp);
    assert.equal(env.state.slots.A.status, "good");
    assert.equal(env.state.slots.A.version, "1.2.0");
    assert.equal(env.state.slots.B.status, "good");
  });

  it("health gate fails past the deadline → slot marked bad with the failing components, reboot into the old slot", async () => {
    const node = await makeFakeNode("1.0.0", [key]);
    await node.setNodeYaml("node_id: 550e8400-e29b-41d4-a716-446655440000\nhostname: qx-test\nupdate:\n  health_timeout: 60\n");
    await applyUpdate(node.ctx(), { image: next });
    await grubBoots(node);
    await node.setRunningVersion("1.1.0");
    const wd = fakeWatchdog();
    const c = clock();
    const t0 = c.now();
    let rebooted = false;
    const res = await bootCheck({ ctx: node.ctx(), health: failing("ovs", "data"), watchdog: wd, reboot: async () => {
      rebooted = true;
    }, ...c, pollMs: 5000 });
    assert.equal(res.outcome, "rolled-back");
    assert.ok(rebooted);
    assert.ok(c.now() - t0 >= 60_000 && c.now() - t0 < 70_000, "waited for the node.yaml deadline");
    assert.ok(!wd.events.includes("disarm"), "the watchdog stays armed through the reboot");
    const env = await readBootEnv(node.esp);
    assert.equal(env.state.primary, "A");
    assert.deepEqual(env.state.slots.B, { status: "bad", tries: 0, version: "1.1.0", reason: "health:ovs,data" });
    assert.deepEqual(await grubBoots(node), { slot: "A", trying: false });
    await node.setRunningVersion("1.0.0");
    const st = await readStatus(node.ctx());
    assert.equal(st.booted, "A");
    assert.equal(st.lastRollback?.reason, "health:ovs,data");
    assert.match(st.lastRollback?.why ?? "", /health check failed: ovs, data/);
  });

  it("a slot that never completes a boot: GRUB gives it up (boot-incomplete), and the next boot records why", async () => {
    const node = await makeFakeNode("1.0.0", [key]);
    await applyUpdate(node.ctx(), { image: next });
    for (let i = 0; i < 3; i++) assert.deepEqual(await grubBoots(node), { slot: "B", trying: true }); // panics, each time
    assert.deepEqual(await grubBoots(node), { slot: "A", trying: false });
    const res = await bootCheck({ ctx: node.ctx(), health: healthy, watchdog: fakeWatchdog(), reboot: async () => undefined, ...clock() });
    assert.equal(res.outcome, "not-trying");
    const st = await readStatus(node.ctx());
    assert.equal(st.slots.find((s) => s.slot === "B")?.status, "bad");
    assert.equal(st.lastRollback?.reason, "boot-incomplete");
    assert.match(st.lastRollback?.why ?? "", /boot did not complete/);
    // Recorded once only.
    await bootCheck({ ctx: node.ctx(), health: healthy, watchdog: fakeWatchdog(), reboot: async () => undefined, ...clock() });
    assert.equal((await readHistory(node.ctx().historyPath)).filter((e) => e.kind === "rollback").length, 1);
    // And a new update into the bad slot works.
    await applyUpdate(node.ctx(), { image: third });
    assert.equal((await readBootEnv(node.esp)).state.slots.B.version, "1.2.0");
  });

  it("a torn primary copy (half a block) or a stale backup is repaired at boot", async () => {
    const node = await makeFakeNode("1.0.0", [key]);
    await applyUpdate(node.ctx(), { image: next });
    const oldBlock = await fs.readFile(join(node.esp, "grub/grubenv"));
    await markGoodNow(node.ctx()).catch(() => undefined); // A is good already: no write
    await rollbackNow(node.ctx()).catch(() => undefined); // refused (B not good): no write
    // Tear a write: the start of a new block over the rest of the old one.
    const tear = async () => {
      const cur = await fs.readFile(join(node.esp, "grub/grubenv"));
      const fresh = Buffer.from(cur.toString("latin1").replace(/qx_seq=(\d+)/, (_m, n) => `qx_seq=${Number(n) + 1}`), "latin1");
      await fs.writeFile(join(node.esp, "grub/grubenv"), Buffer.concat([fresh.subarray(0, 200), cur.subarray(200)]));
    };
    void oldBlock;
    await tear();
    let env = await readBootEnv(node.esp);
    assert.equal(env.source, "backup");
    assert.equal(env.state.primary, "B");
    assert.deepEqual(await grubBoots(node), { slot: "B", trying: true });
    // GRUB's save_env wrote both copies, so tear it again after the boot choice.
    await tear();
    await node.setRunningVersion("1.1.0");
    const res = await bootCheck({ ctx: node.ctx(), health: healthy, watchdog: fakeWatchdog(), reboot: async () => undefined, ...clock() });
    assert.equal(res.repaired.length, 1);
    env = await readBootEnv(node.esp);
    assert.deepEqual(env.problems, []);
    assert.equal(env.source, "primary");
    assert.equal(env.state.slots.B.status, "good");
    assert.equal(await fileSha(join(node.esp, "grub/grubenv")), await fileSha(join(node.esp, "grub/grubenv.bak")));
    // A stale backup (older seq) is rewritten too.
    const old = await fs.readFile(join(node.esp, "grub/grubenv.bak"));
    await markGoodNow(node.ctx());
    await rollbackNow(node.ctx());
    await fs.writeFile(join(node.esp, "grub/grubenv.bak"), old);
    assert.match((await readBootEnv(node.esp)).problems.join(), /stale/);
    await bootCheck({ ctx: node.ctx(), health: healthy, watchdog: fakeWatchdog(), reboot: async () => undefined, ...clock() });
    assert.deepEqual((await readBootEnv(node.esp)).problems, []);
  });

  it("a crash (power cut) after any phase leaves a bootable good slot, and a retry succeeds", async () => {
    for (const phase of APPLY_PHASES) {
      const node = await makeFakeNode("1.0.0", [key]);
      const a0 = await slotHash(node, "A");
      const original = phase.run;
      (phase as { run: typeof original }).run = async (s) => {
        if (phase.name === "write") {
          // Half the image written, then the power goes.
          const region = await node.slots.region("B");
          const fh = await fs.open(node.disk, "r+");
          await fh.write(Buffer.alloc(64 * 1024, 1), 0, 64 * 1024, region.offset);
          await fh.close();
          throw new Error("power cut");
        }
        await original.call(phase, s);
        throw new Error("power cut");
      };
      try {
        await assert.rejects(applyUpdate(node.ctx(), { image: next }), /power cut/);
      } finally {
        (phase as { run: typeof original }).run = original;
      }
      const env = await readBootEnv(node.esp);
      const state: BootState = env.state;
      assert.equal(await slotHash(node, "A"), a0, `${phase.name}: slot A untouched`);
      assert.ok(isBootable(state.slots.A), `${phase.name}: slot A bootable`);
      const boots = await grubBoots(node);
      if (phase.name === "switch") assert.deepEqual(boots, { slot: "B", trying: true });
      else assert.deepEqual(boots, { slot: "A", trying: false }, `${phase.name}: GRUB boots the good slot`);
      if (boots.slot === "A") {
        await applyUpdate(node.ctx(), { image: next });
        assert.equal((await readBootEnv(node.esp)).state.slots.B.status, "trying");
      }
      await fs.rm(node.dir, { recursive: true, force: true });
    }
  });

  it("mark-good and manual rollback", async () => {
    const node = await makeFakeNode("1.0.0", [key]);
    await applyUpdate(node.ctx(), { image: next });
    await grubBoots(node);
    await node.setRunningVersion("1.1.0");
    assert.deepEqual(await markGoodNow(node.ctx()), { slot: "B", changed: true });
    assert.deepEqual(await markGoodNow(node.ctx()), { slot: "B", changed: false });
    const r = await rollbackNow(node.ctx());
    assert.deepEqual(r, { from: "B", to: "A", version: "1.0.0" });
    assert.deepEqual(await grubBoots(node), { slot: "A", trying: false });
    await node.setRunningVersion("1.0.0");
    const st = await readStatus(node.ctx());
    assert.equal(st.lastRollback?.kind, "manual-rollback");
    assert.match(st.lastRollback?.why ?? "", /by hand/);
    // From A, rolling back again to B (good) is allowed; an update from a slot on trial is not.
    await assert.rejects(
      (async () => {
        const n2 = await makeFakeNode("1.0.0", [key]);
        await applyUpdate(n2.ctx(), { image: next });
        await grubBoots(n2);
        await n2.setRunningVersion("1.1.0");
        await applyUpdate(n2.ctx(), { image: third });
      })(),
      /running slot B is trying, not good/,
    );
    void DEFAULT_BOOT_SETTINGS;
  });
});
