import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlotStateError } from "../errors.ts";
import {
  type BootState,
  beginInstall,
  bootAttempt,
  completeInstall,
  initialState,
  isBootable,
  markBad,
  markGood,
  nextBoot,
  REASON_BOOT_INCOMPLETE,
  REASON_INSTALLING,
  rollback,
  SLOT_STATUSES,
  SLOTS,
  type SlotInfo,
  type SlotName,
} from "./slots.ts";

/** Every state the model can express (tries 0..3), for exhaustive checks. */
function allStates(): BootState[] {
  const infos: SlotInfo[] = [];
  for (const status of SLOT_STATUSES) {
    for (let tries = 0; tries <= 3; tries++) {
      if (status !== "trying" && tries > 0) continue;
      infos.push({ status, tries, version: status === "empty" ? null : "1.0", reason: null });
    }
  }
  const out: BootState[] = [];
  for (const primary of SLOTS) for (const A of infos) for (const B of infos) out.push({ seq: 1, primary, slots: { A, B } });
  return out;
}

/** Simulates power-on: GRUB decision + whether that boot "succeeds". */
function boot(s: BootState): { slot: SlotName; trying: boolean; state: BootState } {
  return bootAttempt(s);
}

describe("slot model: the update life cycle", () => {
  it("A→B install, boot, mark good; then B→A", () => {
    let s = initialState("1.0.0");
    assert.equal(nextBoot(s), "A");
    s = beginInstall(s, "A");
    assert.deepEqual(s.slots.B, { status: "bad", tries: 0, version: null, reason: REASON_INSTALLING });
    assert.equal(nextBoot(s), "A", "a half-written slot is never booted");
    s = completeInstall(s, "A", "1.1.0", 3);
    assert.equal(s.primary, "B");
    const d = boot(s);
    assert.deepEqual([d.slot, d.trying, d.state.slots.B.tries], ["B", true, 2]);
    s = markGood(d.state, "B");
    assert.deepEqual(s.slots.B, { status: "good", tries: 0, version: "1.1.0", reason: null });
    assert.deepEqual(boot(s).slot, "B");
    assert.equal(boot(s).trying, false);
    s = completeInstall(beginInstall(s, "B"), "B", "1.2.0");
    assert.equal(boot(s).slot, "A");
    assert.equal(s.slots.A.version, "1.2.0");
  });

  it("a new slot that never completes a boot falls back after exactly N tries", () => {
    for (const n of [1, 2, 3, 9]) {
      let s = completeInstall(beginInstall(initialState("1"), "A"), "A", "2", n);
      const booted: SlotName[] = [];
      for (let i = 0; i < n + 2; i++) {
        const d = boot(s);
        booted.push(d.slot);
        s = d.state; // the boot "hangs": nobody marks good
      }
      assert.deepEqual(booted, [...Array(n).fill("B"), "A", "A"], `tries=${n}`);
      assert.equal(s.primary, "A");
      assert.equal(s.slots.B.status, "bad");
      assert.equal(s.slots.B.reason, REASON_BOOT_INCOMPLETE);
    }
  });

  it("health failure marks the new slot bad with its reason and goes back", () => {
    let s = completeInstall(beginInstall(initialState("1"), "A"), "A", "2");
    s = boot(s).state;
    s = markBad(s, "B", "health:libvirtd");
    assert.equal(s.primary, "A");
    assert.equal(s.slots.B.reason, "health:libvirtd");
    assert.equal(boot(s).slot, "A");
  });

  it("manual rollback switches to the other good slot; refused when there is none", () => {
    let s = completeInstall(beginInstall(initialState("1"), "A"), "A", "2");
    s = markGood(boot(s).state, "B");
    const r = rollback(s, "B");
    assert.equal(r.primary, "A");
    assert.equal(boot(r).slot, "A");
    assert.throws(() => rollback(initialState("1"), "A"), (e: unknown) => e instanceof SlotStateError && /it is empty/.test(e.message));
  });

  it("rolling back from a slot on trial gives that slot up", () => {
    let s = completeInstall(beginInstall(initialState("1"), "A"), "A", "2");
    s = boot(s).state;
    const r = rollback(s, "B");
    assert.equal(r.slots.B.status, "bad");
    assert.equal(boot(r).slot, "A");
  });

  it("refuses an install from a slot that is not good, and completing without beginning", () => {
    let s = completeInstall(beginInstall(initialState("1"), "A"), "A", "2");
    s = boot(s).state;
    assert.throws(() => beginInstall(s, "B"), SlotStateError);
    assert.throws(() => completeInstall(initialState("1"), "A", "2"), SlotStateError);
    assert.throws(() => completeInstall(beginInstall(initialState("1"), "A"), "A", "2", 0), SlotStateError);
    assert.throws(() => completeInstall(beginInstall(initialState("1"), "A"), "A", "2", 10), SlotStateError);
  });

  it("markBad is refused when the other slot is not good (never both unbootable)", () => {
    assert.throws(() => markBad(initialState("1"), "A", "health:x"), SlotStateError);
  });

  it("every transition bumps seq; GRUB's boot attempt never does", () => {
    const s = initialState("1");
    const b = beginInstall(s, "A");
    assert.equal(b.seq, s.seq + 1);
    const c = completeInstall(b, "A", "2");
    assert.equal(c.seq, b.seq + 1);
    assert.equal(bootAttempt(c).state.seq, c.seq);
  });
});

describe("slot model: exhaustive properties over every state", () => {
  const states = allStates();

  it(`boot attempt is total and never picks an unbootable slot when a bootable one exists (${states.length} states)`, () => {
    for (const s of states) {
      const d = bootAttempt(s);
      const anyBootable = SLOTS.some((x) => isBootable(d.state.slots[x]) || (x === s.primary && s.slots[x].status === "trying" && s.slots[x].tries > 0));
      const before = s.slots[d.slot];
      if (anyBootable) {
        assert.ok(before.status === "good" || (before.status === "trying" && before.tries > 0), JSON.stringify(s));
      }
      if (d.trying) assert.equal(d.state.slots[d.slot].tries, before.tries - 1);
      else assert.deepEqual(d.state.slots[d.slot].tries, before.tries);
    }
  });

  it("a good primary is always booted and nothing is written", () => {
    for (const s of states.filter((x) => x.slots[x.primary].status === "good")) {
      const d = bootAttempt(s);
      assert.equal(d.slot, s.primary);
      assert.deepEqual(d.state, s);
    }
  });

  it("repeated boots without mark-good always end on a good slot when one exists", () => {
    for (const s0 of states.filter((x) => SLOTS.some((y) => x.slots[y].status === "good"))) {
      let s = s0;
      for (let i = 0; i < 12; i++) s = bootAttempt(s).state;
      const last = bootAttempt(s);
      assert.equal(s.slots[last.slot].status, "good", JSON.stringify(s0));
    }
  });

  it("userspace transitions either throw SlotStateError or leave a bootable slot", () => {
    for (const s of states) {
      for (const booted of SLOTS) {
        const attempts: Array<() => BootState> = [
          () => beginInstall(s, booted),
          () => completeInstall(beginInstall(s, booted), booted, "9.9"),
          () => markGood(s, booted),
          () => markBad(s, booted, "health:x"),
          () => rollback(s, booted),
        ];
        for (const f of attempts) {
          let r: BootState;
          try {
            r = f();
          } catch (e) {
            assert.ok(e instanceof SlotStateError, String(e));
            continue;
          }
          const hadBootable = SLOTS.some((x) => isBootable(s.slots[x])) || s.slots[booted].status !== "empty";
          if (hadBootable) assert.ok(SLOTS.some((x) => isBootable(r.slots[x])), `${f} from ${JSON.stringify(s)}`);
        }
      }
    }
  });
});
