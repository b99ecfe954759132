/**
 * The interactive installer in tmux (80×25), driving a real install on a loop device
 * (integration: root, loop devices): the disk list, a refused disk with its reason, a
 * wrong confirmation that writes nothing, the disk's name typed to confirm, the
 * progress of every phase, and the layout on the disk afterwards.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { GiB, planDisk, run } from "@quantix/core";
import { attachLoop, detachLoop, makeTestImage } from "../engine/test-image.ts";

const PKG = resolve(import.meta.dirname, "..");
const TMUX = `qx-installer-test-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync("tmux", ["-L", TMUX, ...args], { encoding: "utf8" });
const screen = (): string => tmux("capture-pane", "-p");
const keys = (...k: string[]): void => void tmux("send-keys", ...k);
const type = (text: string): void => void tmux("send-keys", "-l", text);

async function waitFor(what: RegExp, timeoutMs = 30_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < end) {
    text = screen();
    if (what.test(text)) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`screen never showed ${what}; it shows:\n${text}`);
}

const firstMiBZero = async (dev: string) =>
  (await run("sh", ["-c", `dd if=${dev} bs=1M count=1 status=none | tr -d '\\0' | wc -c`])).stdout.trim() === "0";

describe("interactive installer in tmux (integration)", { timeout: 5 * 60_000 }, () => {
  let dir = "";
  let big = "";
  let small = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-installer-ui-"));
    const image = await makeTestImage(dir);
    big = await attachLoop(join(dir, "big.img"), 3 * GiB);
    small = await attachLoop(join(dir, "small.img"), GiB);
    // The UI as the live ISO runs it, with the disk list limited to the two loop devices.
    const driver = join(dir, "driver.mts");
    await writeFile(
      driver,
      [
        `import { openSystemImage } from ${JSON.stringify(resolve(PKG, "../../core/src/index.ts"))};`,
        `import { defaultDiskEnv, listDisks } from ${JSON.stringify(join(PKG, "engine/disks.ts"))};`,
        `import { runInstallerUi } from ${JSON.stringify(join(PKG, "ui/tty-app.ts"))};`,
        `const env = { ...defaultDiskEnv(), statusFile: ${JSON.stringify(join(dir, "none"))} };`,
        `const image = await openSystemImage(${JSON.stringify(image)});`,
        `await runInstallerUi({ imagePath: image.path, imageBytes: image.sizeBytes, version: image.version, answers: null, diskEnv: env,`,
        `  listDisks: async () => [...(await listDisks(env, ${JSON.stringify(small)})), ...(await listDisks(env, ${JSON.stringify(big)}))],`,
        `  power: async (what) => { console.log("POWER " + what); } });`,
        "",
      ].join("\n"),
    );
    tmux("new-session", "-d", "-x", "80", "-y", "25", `cd ${resolve(PKG, "../../..")} && npx tsx ${driver}; sleep 60`);
  });
  after(async () => {
    try {
      tmux("kill-server");
    } catch {
      // already gone
    }
    for (const d of [big, small]) if (d) await detachLoop(d);
    await rm(dir, { recursive: true, force: true });
  });

  it("lists the disks, refuses the small one, confirms by name and installs with progress", async () => {
    let text = await waitFor(/Select the disk to install to/);
    assert.match(text, new RegExp(`${small}\\s+1 GiB .*too small`));
    assert.match(text, new RegExp(`> ${big}\\s+3 GiB .*empty`), "the cursor starts on the usable disk");
    keys("Up", "Enter");
    text = await waitFor(/smaller than the .* Quantix-OS needs; nothing/);
    assert.ok(await firstMiBZero(small));
    keys("Down", "Enter");
    await waitFor(/ALL DATA ON THIS DISK WILL BE ERASED/);
    type("loopX");
    keys("Enter");
    await waitFor(new RegExp(`type ${basename(big)} exactly`));
    assert.ok(await firstMiBZero(big), "a wrong name writes nothing");
    type(basename(big));
    keys("Enter");
    text = await waitFor(/Installation complete/, 120_000);
    for (const p of ["partition", "bios-boot", "esp", "slot-a", "slot-b", "config", "data"]) assert.match(text, new RegExp(`\\[x\\] ${p}\\s+\\d+\\.\\ds`));
    const { stdout } = await run("sgdisk", ["--print", big]);
    for (const p of planDisk(3 * GiB).partitions) assert.match(stdout, new RegExp(`\\s${p.gptName}\\s*$`, "m"));
    keys("Enter");
    await waitFor(/POWER reboot/);
  });
});
