/**
 * The live installer's decision (integration: a loop device as the target): unattended
 * from the answers, the report line on the console, the `after` action; a refused disk
 * falls back to the interactive installer with the reason, nothing written.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GiB, run } from "@quantix/core";
import { defaultDiskEnv } from "../engine/disks.ts";
import { attachLoop, detachLoop, makeTestImage } from "../engine/test-image.ts";
import { resolveAnswers } from "../answers/source.ts";
import { runLive } from "./live.ts";

describe("live installer (integration)", { timeout: 5 * 60_000 }, () => {
  let dir = "";
  let image = "";
  const loops: string[] = [];
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-live-"));
    image = await makeTestImage(dir);
    await mkdir(join(dir, "root/run/quantix"), { recursive: true });
    await mkdir(join(dir, "root/proc"), { recursive: true });
    await writeFile(join(dir, "root/run/quantix/initramfs.status"), `QX_LIVE='1'\nQX_SQUASHFS_FILE='${image}'\nQX_SOURCE='/dev/sr0:/quantix/system.squashfs'\n`);
  });
  after(async () => {
    for (const l of loops) await detachLoop(l);
    await rm(dir, { recursive: true, force: true });
  });

  const live = async (cmdline: string, answers: string | null) => {
    await writeFile(join(dir, "root/proc/cmdline"), `${cmdline}\n`);
    await writeFile(join(dir, "console.log"), "");
    const afters: string[] = [];
    const interactive: { preselect?: string | null; message?: string }[] = [];
    const outcome = await runLive({
      root: join(dir, "root"),
      consolePath: join(dir, "console.log"),
      diskEnv: { ...defaultDiskEnv(), statusFile: join(dir, "root/run/quantix/initramfs.status") },
      resolve: (c) => resolveAnswers({ cmdline: c, readLabel: async () => (answers ? { text: answers, source: "/dev/sr1:answers.yaml" } : null) }),
      after: async (a) => void afters.push(a),
      interactive: async (o) => void interactive.push({ preselect: o.preselect ?? null, message: o.message ?? "" }),
    });
    return { outcome, afters, interactive, console: await readFile(join(dir, "console.log"), "utf8") };
  };

  it("installs unattended from an answer file, reports on the console, then powers off", async () => {
    const dev = await attachLoop(join(dir, "a.img"), 3 * GiB);
    loops.push(dev);
    const r = await live("qx.live=1", `disk: ${dev}\nerase: true\nafter: poweroff\nhostname: vm-node\n`);
    assert.equal(r.outcome, "installed");
    assert.deepEqual(r.afters, ["poweroff"]);
    assert.deepEqual(r.interactive, []);
    assert.match(r.console, /qx-install: answer file \/dev\/sr1:answers\.yaml/);
    assert.match(r.console, new RegExp(`qx-install: installed Quantix-OS 9\\.9\\.9 on ${dev} in [\\d.]+ s \\(slot A copy`));
    const report = JSON.parse(/qx-install: report (\{.*\})/.exec(r.console)![1]!) as { phases: { name: string }[] };
    assert.deepEqual(
      report.phases.map((p) => p.name),
      ["partition", "bios-boot", "esp", "slot-a", "slot-b", "config", "data"],
    );
    // Respawned by its service before the power goes: no second install.
    const again = await live("qx.live=1", `disk: ${dev}\nerase: true\nafter: poweroff\n`);
    assert.equal(again.outcome, "interactive");
    assert.deepEqual(again.afters, []);
    assert.match(again.interactive[0]?.message ?? "", /installed Quantix-OS 9\.9\.9 .*remove the installation medium/);
    await rm(join(dir, "root/run/quantix/installed"));
  });

  it("a refused disk falls back to the interactive installer with the reason, nothing written", async () => {
    const dev = await attachLoop(join(dir, "small.img"), GiB);
    loops.push(dev);
    const r = await live(`qx.live=1 qx.install=${dev} qx.install.yes`, null);
    assert.equal(r.outcome, "interactive");
    assert.deepEqual(r.afters, []);
    assert.equal(r.interactive[0]?.preselect, dev);
    assert.match(r.interactive[0]?.message ?? "", /smaller than .* Quantix-OS needs; nothing was written/);
    assert.match(r.console, /unattended install on .* failed/);
    const { stdout } = await run("sh", ["-c", `dd if=${dev} bs=1M count=1 status=none | tr -d '\\0' | wc -c`]);
    assert.equal(stdout.trim(), "0");
  });

  it("without a confirmed disk it is interactive, and a broken answer file is shown, not used", async () => {
    const r = await live("qx.live=1", "hostname: BAD_NAME\n");
    assert.equal(r.outcome, "interactive");
    assert.match(r.interactive[0]?.message ?? "", /answers\.yaml: hostname/);
  });
});
