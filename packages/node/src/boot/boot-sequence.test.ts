import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { checkBoot } from "../services/boot-check.ts";
import { makeRoot, removeRoot, testContext } from "../test-support.ts";
import { BOOT_REPORT, BootReport, checkOrder, runBootPhases } from "./boot-sequence.ts";
import { nodeBootPhases } from "./node-boot.ts";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("boot sequence", () => {
  it("a phase starts once those it comes after have ended; independent phases run side by side", async () => {
    const events: string[] = [];
    const phase = (name: string, after: string[] = [], ms = 10) => ({
      name,
      after,
      run: async () => {
        events.push(`start ${name}`);
        await tick(ms);
        events.push(`end ${name}`);
        return `${name} ok`;
      },
    });
    const r = await runBootPhases([phase("network", ["firstboot"]), phase("firstboot", [], 20), phase("data", [], 5)], { log: () => {} });
    assert.equal(r.ok, true);
    assert.ok(events.indexOf("end firstboot") < events.indexOf("start network"), events.join(", "));
    assert.ok(events.indexOf("start data") < events.indexOf("end firstboot"), "data does not wait for firstboot");
    assert.deepEqual(r.phases.map((p) => p.name), ["network", "firstboot", "data"]);
    BootReport.parse(r);
  });

  it("a failed phase is recorded with its reason and stops nothing, not even the phases after it", async () => {
    const lines: string[] = [];
    const r = await runBootPhases(
      [
        { name: "firstboot", run: async () => Promise.reject(new Error("/quantix is not writable (EROFS)\nmore")) },
        { name: "network", after: ["firstboot"], run: async () => "eth0: dhcp 10.0.2.15/24" },
        { name: "vswitch", after: ["network"], run: async () => ({ skipped: "no bridge declared" }) },
      ],
      { log: (l) => lines.push(l) },
    );
    assert.equal(r.ok, false);
    assert.deepEqual(r.phases.map((p) => [p.name, p.status, p.message]), [
      ["firstboot", "failed", "/quantix is not writable (EROFS)"],
      ["network", "done", "eth0: dhcp 10.0.2.15/24"],
      ["vswitch", "skipped", "no bridge declared"],
    ]);
    assert.match(lines.join("\n"), /firstboot: FAILED: \/quantix is not writable/);
  });

  it("refuses an unknown phase name, a duplicate and a cycle", () => {
    const p = (name: string, after: string[] = []) => ({ name, after, run: async () => "" });
    assert.throws(() => checkOrder([p("a", ["b"])]), /unknown phase b/);
    assert.throws(() => checkOrder([p("a"), p("a")]), /same name/);
    assert.throws(() => checkOrder([p("a", ["b"]), p("b", ["a"])]), /cycle/);
    checkOrder(nodeBootPhases({ root: "/nonexistent", log: () => {} }));
  });

  it("the node's phases: firstboot before network before vswitch; data and boot-env on their own", () => {
    const phases = nodeBootPhases({ root: "/nonexistent", log: () => {} });
    assert.deepEqual(
      phases.map((p) => [p.name, [...(p.after ?? [])]]),
      [
        ["firstboot", []],
        ["network", ["firstboot"]],
        ["data", []],
        ["vswitch", ["firstboot", "network"]],
        ["boot-env", []],
      ],
    );
  });

  it("health component boot: ok with every phase, failing with the reasons, failing without a report", async () => {
    const root = await makeRoot();
    try {
      const ctx = testContext(root);
      assert.equal((await checkBoot(ctx, 1000)).ok, true);
      const report = await runBootPhases(
        [
          { name: "data", run: async () => Promise.reject(new Error("refused: /dev/vda5 holds ext4")) },
          { name: "network", run: async () => "ok" },
        ],
        { log: () => {} },
      );
      await mkdir(join(root, "run/quantix"), { recursive: true });
      await writeFile(join(root, BOOT_REPORT), JSON.stringify(report));
      const bad = await checkBoot(ctx, 1000);
      assert.equal(bad.ok, false);
      assert.equal(bad.detail, "data: refused: /dev/vda5 holds ext4");
      await writeFile(join(root, BOOT_REPORT), "{}");
      assert.match((await checkBoot(ctx, 1000)).detail, /not a boot report/);
      await removeRoot(join(root, "run"));
      assert.match((await checkBoot(ctx, 1000)).detail, /no boot report .*qx-boot did not run/);
    } finally {
      await removeRoot(root);
    }
  });
});
