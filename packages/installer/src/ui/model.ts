/**
 * @module ui/model
 * The interactive installer as a pure state machine: screens, keys and engine events
 * in, the next state and at most one effect out. No I/O here, so every path (refusals,
 * a wrong confirmation, a failed phase) is a unit test.
 *
 *   disks ──Enter──▶ confirm ──type the disk name + Enter──▶ installing ──▶ done | failed
 *     ▲ Esc ◀───────────┘                                                    │
 *     └──────────────────────────── Esc (failed only) ◀──────────────────────┘
 *
 * @example
 * ```ts
 * let s = initialState({ disks, imageBytes, version: "1.0.0" });
 * ({ state: s } = onKey(s, { name: "enter" }));      // confirm screen for the first usable disk
 * ```
 */
import type { Key } from "@quantix/console/keys";
import type { DiskInfo } from "../engine/disks.ts";
import { type DataFormat, type InstallEvent, phasesFor } from "../engine/phases.ts";
import { InstallRefused, preflight } from "../engine/preflight.ts";

export type Mode = "install" | "upgrade";

export interface PhaseView {
  readonly name: string;
  readonly status: "pending" | "running" | "done";
  readonly ms?: number;
  readonly detail?: string;
  /** 0..1 within the phase, when it reports progress. */
  readonly fraction?: number;
  readonly step?: string;
}

interface Common {
  readonly version: string;
  readonly imageBytes: number;
  readonly disks: readonly DiskInfo[];
  readonly mode: Mode;
  readonly data: DataFormat;
  /** A one-line message under the list (a refusal, a warning from the answers). */
  readonly message: string;
}

export type State =
  | (Common & { readonly screen: "disks"; readonly cursor: number })
  | (Common & { readonly screen: "confirm"; readonly cursor: number; readonly typed: string })
  | (Common & { readonly screen: "installing"; readonly cursor: number; readonly phases: readonly PhaseView[]; readonly startedAt: number })
  | (Common & { readonly screen: "done"; readonly cursor: number; readonly phases: readonly PhaseView[]; readonly totalMs: number })
  | (Common & { readonly screen: "failed"; readonly cursor: number; readonly phases: readonly PhaseView[]; readonly error: string });

export type Effect =
  | { readonly type: "install"; readonly disk: DiskInfo; readonly mode: Mode; readonly data: DataFormat }
  | { readonly type: "rescan" }
  | { readonly type: "reboot" }
  | { readonly type: "poweroff" }
  | { readonly type: "shell" };

export interface Step {
  readonly state: State;
  readonly effect?: Effect;
}

export interface InitialOptions {
  readonly disks: readonly DiskInfo[];
  readonly imageBytes: number;
  readonly version: string;
  readonly mode?: Mode;
  readonly data?: DataFormat;
  /** Preselect this disk (qx.install= without qx.install.yes). */
  readonly preselect?: string | null;
  readonly message?: string;
}

/**
 * One word for a disk, the same in the installer's list and in `qx-install disks`:
 * boot medium, in use, too small, not usable, HAS DATA or empty (in that order: the
 * first that holds). With the reason a disk cannot be chosen, when it cannot.
 */
export function diskStatus(d: DiskInfo, mode: Mode, imageBytes: number): { status: string; why: string | null } {
  const why = refusal(d, mode, imageBytes);
  if (d.isBootMedium) return { status: "boot medium", why };
  if (d.mounted.length) return { status: "in use", why };
  if (why && /smaller/.test(why)) return { status: "too small", why };
  if (why) return { status: "not usable", why };
  return { status: d.hasData ? "HAS DATA" : "empty", why: null };
}

/** Why `disk` cannot be chosen in `mode`, or null. */
export function refusal(disk: DiskInfo, mode: Mode, imageBytes: number): string | null {
  try {
    preflight(disk, { mode, imageBytes });
    return null;
  } catch (e) {
    if (e instanceof InstallRefused) return e.message;
    throw e;
  }
}

export function initialState(o: InitialOptions): State {
  const pre = o.preselect ? o.disks.findIndex((d) => d.device === o.preselect) : -1;
  const mode = o.mode ?? "install";
  const firstUsable = o.disks.findIndex((d) => refusal(d, mode, o.imageBytes) === null);
  return {
    screen: "disks",
    cursor: pre >= 0 ? pre : Math.max(0, firstUsable),
    disks: o.disks,
    imageBytes: o.imageBytes,
    version: o.version,
    mode,
    data: o.data ?? "xfs",
    message: o.message ?? "",
  };
}

/** After a rescan: same disk under the cursor when it is still there. */
export function withDisks(s: State, disks: readonly DiskInfo[]): State {
  if (s.screen !== "disks") return s;
  const current = s.disks[s.cursor]?.device;
  const i = disks.findIndex((d) => d.device === current);
  return { ...s, disks, cursor: Math.max(i, 0), message: "" };
}

/** The text the operator must type to confirm: the disk's kernel name (`vda`). */
export const confirmWord = (d: DiskInfo): string => d.name;

export function onKey(s: State, key: Key): Step {
  switch (s.screen) {
    case "disks": {
      const n = s.disks.length;
      if (key.name === "up") return { state: { ...s, cursor: n ? (s.cursor - 1 + n) % n : 0, message: "" } };
      if (key.name === "down") return { state: { ...s, cursor: n ? (s.cursor + 1) % n : 0, message: "" } };
      if (key.name === "f5" || (key.name === "char" && key.ch === "r")) return { state: { ...s, message: "rescanning disks..." }, effect: { type: "rescan" } };
      if (key.name === "char" && key.ch === "u") {
        const mode: Mode = s.mode === "install" ? "upgrade" : "install";
        return { state: { ...s, mode, message: mode === "upgrade" ? "upgrade: keeps /quantix and /data, rewrites the boot files and the system" : "" } };
      }
      if (key.name === "char" && key.ch === "l") return { state: { ...s, data: s.data === "xfs" ? "lvm" : "xfs", message: "" } };
      if (key.name === "f12") return { state: s, effect: { type: "shell" } };
      if (key.name === "f10") return { state: s, effect: { type: "reboot" } };
      if (key.name === "enter") {
        const d = s.disks[s.cursor];
        if (!d) return { state: { ...s, message: "no disk found: attach one and press R to rescan" } };
        const why = refusal(d, s.mode, s.imageBytes);
        if (why) return { state: { ...s, message: why } };
        return { state: { ...s, screen: "confirm", typed: "", message: "" } };
      }
      return { state: s };
    }
    case "confirm": {
      const d = s.disks[s.cursor]!;
      if (key.name === "escape") return { state: { ...s, screen: "disks", cursor: s.cursor, message: "cancelled: nothing was written" } };
      if (key.name === "backspace") return { state: { ...s, typed: [...s.typed].slice(0, -1).join(""), message: "" } };
      if (key.name === "char" && key.ch && s.typed.length < 32) return { state: { ...s, typed: s.typed + key.ch, message: "" } };
      if (key.name === "enter") {
        if (s.typed !== confirmWord(d)) return { state: { ...s, typed: "", message: `type ${confirmWord(d)} exactly to confirm, or Esc to go back` } };
        return {
          state: { ...s, screen: "installing", phases: phasesFor(s.mode).map((p) => ({ name: p.name, status: "pending" })), startedAt: Date.now(), message: "" },
          effect: { type: "install", disk: d, mode: s.mode, data: s.data },
        };
      }
      return { state: s };
    }
    case "installing":
      return { state: s };
    case "done":
      if (key.name === "enter" || key.name === "f10") return { state: s, effect: { type: "reboot" } };
      if (key.name === "char" && key.ch === "p") return { state: s, effect: { type: "poweroff" } };
      return { state: s };
    case "failed":
      if (key.name === "escape") return { state: { ...s, screen: "disks", message: "" }, effect: { type: "rescan" } };
      if (key.name === "f12") return { state: s, effect: { type: "shell" } };
      if (key.name === "f10") return { state: s, effect: { type: "reboot" } };
      return { state: s };
  }
}

/** Folds an engine event into the progress screen. */
export function onInstallEvent(s: State, e: InstallEvent): State {
  if (s.screen !== "installing") return s;
  const phases = [...s.phases];
  const i = phases.findIndex((p) => p.name === e.phase || e.phase.startsWith(`${p.name} `));
  if (e.type === "phase-start") {
    if (i >= 0) phases[i] = { name: e.phase, status: "running" };
    else phases.push({ name: e.phase, status: "running" });
  } else if (e.type === "phase-done") {
    const p = { name: e.phase, status: "done" as const, ms: e.ms, ...(e.detail ? { detail: e.detail } : {}) };
    if (i >= 0) phases[i] = p;
    else phases.push(p);
  } else if (i >= 0) {
    phases[i] = { ...phases[i]!, fraction: e.total ? Math.min(1, e.done / e.total) : 0, step: e.phase.slice(phases[i]!.name.length).trim() };
  }
  return { ...s, phases };
}

export function onInstallDone(s: State, totalMs: number): State {
  if (s.screen !== "installing") return s;
  return { ...s, screen: "done", totalMs };
}

export function onInstallFailed(s: State, error: string): State {
  if (s.screen !== "installing") return s;
  return { ...s, screen: "failed", error };
}
