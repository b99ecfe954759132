import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HEIGHT, WIDTH } from "@quantix/console/render";
import type { Key } from "@quantix/console/keys";
import { GiB, MiB } from "@quantix/core";
import type { DiskInfo } from "../engine/disks.ts";
import { diskStatus, type Effect, initialState, onInstallDone, onInstallEvent, onInstallFailed, onKey, type State } from "./model.ts";
import { view } from "./view.ts";

const disk = (name: string, over: Partial<DiskInfo> = {}): DiskInfo => ({
  device: `/dev/${name}`,
  name,
  sizeBytes: 16 * GiB,
  model: "QEMU HARDDISK",
  type: "disk",
  readOnly: false,
  removable: false,
  hasData: false,
  contents: "",
  isBootMedium: false,
  mounted: [],
  holders: [],
  ...over,
});
const DISKS = [
  disk("sr0", { type: "rom", isBootMedium: true, sizeBytes: 200 * MiB, model: "QEMU DVD-ROM", contents: "iso9660 \"QX_INSTALL\"" }),
  disk("vda", { sizeBytes: GiB }),
  disk("vdb", { hasData: true, contents: "gpt: OLD" }),
];
const k = (name: Key["name"], ch?: string): Key => (ch ? { name, ch } : { name });
const typeText = (s: State, text: string): State => [...text].reduce((st, ch) => onKey(st, k("char", ch)).state, s);
const start = () => initialState({ disks: DISKS, imageBytes: 100 * MiB, version: "1.0.0" });

describe("installer UI model", () => {
  it("starts on the first usable disk and refuses the others with the reason", () => {
    let s = start();
    assert.equal(s.cursor, 2, "sr0 is the boot medium and vda too small");
    s = onKey(s, k("up")).state;
    s = onKey(s, k("enter")).state;
    assert.equal(s.screen, "disks");
    assert.match(s.message, /\/dev\/vda: is 1 GiB, smaller than .* Quantix-OS needs; nothing was written/);
    s = onKey(onKey(s, k("up")).state, k("enter")).state;
    assert.match(s.message, /\/dev\/sr0: is a rom/);
  });

  it("erases only after the disk's name is typed exactly", () => {
    let s = onKey(start(), k("enter")).state;
    assert.equal(s.screen, "confirm");
    s = typeText(s, "vda");
    let step = onKey(s, k("enter"));
    assert.equal(step.effect, undefined, "a wrong name never installs");
    assert.equal(step.state.screen, "confirm");
    assert.match(step.state.message, /type vdb exactly/);
    s = typeText(step.state, "vdbx");
    s = onKey(s, k("backspace")).state;
    step = onKey(s, k("enter"));
    assert.deepEqual(step.effect as Effect, { type: "install", disk: DISKS[2], mode: "install", data: "xfs" });
    assert.equal(step.state.screen, "installing");
  });

  it("Esc on the confirmation goes back with nothing written; U and L switch mode and data format", () => {
    let s = onKey(start(), k("char", "u")).state;
    s = onKey(s, k("char", "l")).state;
    assert.deepEqual([s.mode, s.data], ["upgrade", "lvm"]);
    s = onKey(onKey(s, k("enter")).state, k("escape")).state;
    assert.equal(s.screen, "disks");
    assert.match(s.message, /cancelled: nothing was written/);
  });

  it("shows every phase of the mode with progress, then done or failed", () => {
    let s = typeText(onKey(start(), k("enter")).state, "vdb");
    s = onKey(s, k("enter")).state;
    assert.equal(s.screen, "installing");
    if (s.screen !== "installing") return;
    assert.deepEqual(
      s.phases.map((p) => p.name),
      ["partition", "bios-boot", "esp", "slot-a", "slot-b", "config", "data"],
    );
    s = onInstallEvent(s, { type: "phase-start", phase: "slot-a" });
    s = onInstallEvent(s, { type: "progress", phase: "slot-a write", done: 50, total: 100 });
    const rows = view(s);
    assert.equal(rows.length, HEIGHT);
    assert.ok(rows.every((r) => [...r].length === WIDTH));
    assert.ok(rows.some((r) => /\[>\] slot-a .*\[#{15}\.{15}\]\s+50% write/.test(r)), rows.join("\n"));
    s = onInstallEvent(s, { type: "phase-done", phase: "slot-a", ms: 1500, detail: "100 MiB" });
    assert.ok(view(s).some((r) => /\[x\] slot-a\s+1\.5s\s+100 MiB/.test(r)));
    const failed = onInstallFailed(s, "mkfs.xfs: exit 1");
    assert.equal(failed.screen, "failed");
    assert.ok(view(failed).some((r) => /mkfs\.xfs: exit 1/.test(r)));
    const done = onInstallDone(s, 95_000);
    assert.equal(onKey(done, k("enter")).effect?.type, "reboot");
    assert.equal(onKey(done, k("char", "p")).effect?.type, "poweroff");
  });

  it("the disk list shows device, size, model and state in 80x25", () => {
    const rows = view(start());
    assert.equal(rows.length, HEIGHT);
    assert.ok(rows.every((r) => [...r].length === WIDTH));
    const text = rows.join("\n");
    assert.match(text, /\/dev\/sr0\s+200 MiB\s+QEMU DVD-ROM\s+boot medium/);
    assert.match(text, /\/dev\/vda\s+1 GiB\s+QEMU HARDDISK\s+too small/);
    assert.match(text, /> \/dev\/vdb\s+16 GiB\s+QEMU HARDDISK\s+HAS DATA\s+gpt: OLD/);
  });
});

describe("disk status: one verdict per disk, for the installer's list and qx-install disks", () => {
  it("a mounted disk is in use, never 'empty' beside a refusal", () => {
    const d = disk("vda", { sizeBytes: 256 * GiB, hasData: false, contents: "", mounted: ["/"] });
    const r = diskStatus(d, "install", 0);
    assert.equal(r.status, "in use");
    assert.match(r.why ?? "", /in use/);
  });
  it("a usable disk is empty or HAS DATA, with no reason attached", () => {
    assert.deepEqual(diskStatus(disk("vdb", { sizeBytes: 64 * GiB }), "install", 0), { status: "empty", why: null });
    assert.deepEqual(diskStatus(disk("vdc", { sizeBytes: 64 * GiB, hasData: true, contents: "gpt: root" }), "install", 0), { status: "HAS DATA", why: null });
  });
  it("a small disk is too small, with the reason", () => {
    const r = diskStatus(disk("vdd", { sizeBytes: 512 * MiB }), "install", 0);
    assert.equal(r.status, "too small");
    assert.match(r.why ?? "", /smaller/);
  });
});
