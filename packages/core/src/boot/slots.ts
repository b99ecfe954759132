/**
 * @module slots
 * The A/B slot model as pure functions. A {@link BootState} is what the GRUB
 * environment stores; every transition returns a new state (never mutates) and
 * throws {@link SlotStateError} when it would break the model's one rule: there is
 * always a slot that can boot.
 *
 * Life of an update (pessimistic, as RAUC's install):
 * `beginInstall` (target marked bad) → write + verify → `completeInstall`
 * (target trying with N tries, primary) → GRUB `bootAttempt`s → `markGood`, or
 * tries exhausted / `markBad` → back on the other slot.
 *
 * @example
 * ```ts
 * let s = initialState("1.0.0");
 * s = beginInstall(s, "A");
 * s = completeInstall(s, "A", "1.1.0");
 * const { slot, state } = bootAttempt(s); // slot "B", one try used
 * ```
 */
import { SlotStateError } from "../errors.ts";

export const SLOTS = ["A", "B"] as const;
export type SlotName = (typeof SLOTS)[number];
export const SLOT_STATUSES = ["good", "trying", "bad", "empty"] as const;
export type SlotStatus = (typeof SLOT_STATUSES)[number];

/** Reason codes recorded when a slot is given up. */
export const REASON_BOOT_INCOMPLETE = "boot-incomplete";
/** Recorded by GRUB when the slot's kernel or initramfs could not be loaded at all. */
export const REASON_KERNEL_UNLOADABLE = "kernel-unloadable";
export const REASON_INSTALLING = "install-in-progress";
export const REASON_MANUAL_ROLLBACK = "manual-rollback";

export const DEFAULT_MAX_TRIES = 3;
export const MAX_TRIES_LIMIT = 9; // GRUB counts down with an if-chain over one digit

export interface SlotInfo {
  readonly status: SlotStatus;
  /** Boots left while `trying` (GRUB decrements before each boot). */
  readonly tries: number;
  readonly version: string | null;
  /** Why the slot was given up (`bad`), if known. */
  readonly reason: string | null;
}

export interface BootState {
  /** Increases with every userspace write; GRUB never changes it. */
  readonly seq: number;
  readonly primary: SlotName;
  readonly slots: Readonly<Record<SlotName, SlotInfo>>;
}

export function otherSlot(s: SlotName): SlotName {
  return s === "A" ? "B" : "A";
}

export function isSlotName(s: unknown): s is SlotName {
  return s === "A" || s === "B";
}

/** A fresh disk: slot A good with `version`, slot B empty. */
export function initialState(version: string): BootState {
  return {
    seq: 1,
    primary: "A",
    slots: {
      A: { status: "good", tries: 0, version, reason: null },
      B: { status: "empty", tries: 0, version: null, reason: null },
    },
  };
}

/** True when GRUB can boot the slot: good, or trying with tries left. */
export function isBootable(info: SlotInfo): boolean {
  return info.status === "good" || (info.status === "trying" && info.tries > 0);
}

function withSlot(state: BootState, slot: SlotName, info: Partial<SlotInfo>, extra: Partial<BootState> = {}): BootState {
  return {
    ...state,
    ...extra,
    slots: { ...state.slots, [slot]: { ...state.slots[slot], ...info } },
  };
}

function bump(state: BootState): BootState {
  return { ...state, seq: state.seq + 1 };
}

function requireBootable(state: BootState, action: string): BootState {
  if (!SLOTS.some((s) => isBootable(state.slots[s]))) {
    throw new SlotStateError(`${action} would leave no bootable slot`, undefined, {
      hint: "refused to keep the node bootable",
    });
  }
  return state;
}

/**
 * Step 1 of an update: the inactive slot (the one not `booted`) is marked bad before a
 * byte is written, and the booted slot becomes primary. Refused unless the booted slot
 * is good (an update from a slot on trial would risk both).
 */
export function beginInstall(state: BootState, booted: SlotName): BootState {
  const target = otherSlot(booted);
  if (state.slots[booted].status !== "good") {
    throw new SlotStateError(
      `the running slot ${booted} is ${state.slots[booted].status}, not good`,
      booted,
      { hint: "mark it good first (qx-update mark-good) or reboot into a good slot" },
    );
  }
  return bump(
    withSlot(state, target, { status: "bad", tries: 0, version: null, reason: REASON_INSTALLING }, { primary: booted }),
  );
}

/**
 * Step 3 of an update: the written and verified slot becomes primary, on trial with
 * `tries` boots. Requires {@link beginInstall} first (target bad with install-in-progress).
 */
export function completeInstall(state: BootState, booted: SlotName, version: string, tries = DEFAULT_MAX_TRIES): BootState {
  const target = otherSlot(booted);
  const t = state.slots[target];
  if (t.status !== "bad" || t.reason !== REASON_INSTALLING) {
    throw new SlotStateError(`slot ${target} was not prepared for an install`, target, {
      hint: "an install must start with beginInstall",
    });
  }
  if (!Number.isInteger(tries) || tries < 1 || tries > MAX_TRIES_LIMIT) {
    throw new SlotStateError(`tries must be 1..${MAX_TRIES_LIMIT}, got ${tries}`);
  }
  if (!version) throw new SlotStateError("version must not be empty", target);
  return bump(withSlot(state, target, { status: "trying", tries, version, reason: null }, { primary: target }));
}

export interface BootDecision {
  /** The slot GRUB boots. */
  readonly slot: SlotName;
  /** Whether this boot is a trial (kernel gets `qx.trying=1`). */
  readonly trying: boolean;
  /** State after GRUB's writes (tries decremented, exhausted slot marked bad). */
  readonly state: BootState;
}

/**
 * What GRUB does at power-on; `grub.cfg` implements exactly this. A trying slot with
 * tries left loses one and boots; with none left it is marked bad
 * (`boot-incomplete`) and the other slot becomes primary. When nothing is bootable
 * the primary is booted anyway (last resort, state unchanged). GRUB does not bump `seq`.
 */
export function bootAttempt(state: BootState): BootDecision {
  let s = state;
  const p = s.primary;
  const info = s.slots[p];
  if (info.status === "trying" && info.tries === 0) {
    s = withSlot(s, p, { status: "bad", reason: REASON_BOOT_INCOMPLETE }, { primary: otherSlot(p) });
  }
  for (const slot of [s.primary, otherSlot(s.primary)] as const) {
    const i = s.slots[slot];
    if (i.status === "good") return { slot, trying: false, state: s };
    if (i.status === "trying" && i.tries > 0) {
      return { slot, trying: true, state: withSlot(s, slot, { tries: i.tries - 1 }) };
    }
  }
  return { slot: s.primary, trying: false, state: s };
}

/** The booted slot passed its health gate: good, and its tries are cleared. */
export function markGood(state: BootState, booted: SlotName): BootState {
  const i = state.slots[booted];
  if (i.status === "empty") throw new SlotStateError(`slot ${booted} is empty`, booted);
  if (i.status === "good" && i.tries === 0 && i.reason === null) return state;
  return bump(withSlot(state, booted, { status: "good", tries: 0, reason: null }));
}

/**
 * The booted slot failed (health gate, crash loop): mark it bad with `reason` and make
 * the other slot primary. Refused when the other slot is not good.
 */
export function markBad(state: BootState, booted: SlotName, reason: string): BootState {
  const other = otherSlot(booted);
  if (state.slots[other].status !== "good") {
    throw new SlotStateError(`cannot give up slot ${booted}: slot ${other} is ${state.slots[other].status}`, booted, {
      hint: "the running slot stays in use",
    });
  }
  return requireBootable(
    bump(withSlot(state, booted, { status: "bad", tries: 0, reason }, { primary: other })),
    `marking slot ${booted} bad`,
  );
}

/**
 * Manual rollback: make the other (good) slot primary; takes effect at the next boot.
 * A booted slot still on trial is given up (bad, `manual-rollback`).
 */
export function rollback(state: BootState, booted: SlotName): BootState {
  const other = otherSlot(booted);
  const o = state.slots[other];
  if (o.status !== "good") {
    throw new SlotStateError(`cannot roll back to slot ${other}: it is ${o.status}`, other, {
      hint: o.status === "empty" ? "no previous system is installed" : "install an update instead",
    });
  }
  const b = state.slots[booted];
  const left = b.status === "trying" ? withSlot(state, booted, { status: "bad", tries: 0, reason: REASON_MANUAL_ROLLBACK }) : state;
  return bump({ ...left, primary: other });
}

/** The slot the system will boot next, without changing anything. */
export function nextBoot(state: BootState): SlotName {
  return bootAttempt(state).slot;
}
