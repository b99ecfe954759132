import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { run } from "../exec.ts";
import { diskGrubCfg, embeddedGrubCfg, isoGrubCfg } from "./grub-cfg.ts";
import { ENV_KEYS } from "./boot-env.ts";
import { SLOTS } from "./slots.ts";

async function scriptCheck(text: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "qx-grubcfg-"));
  try {
    const f = join(dir, "grub.cfg");
    await writeFile(f, text);
    await run("grub-script-check", [f]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("grub.cfg generation", () => {
  it("the disk, embedded and ISO configs pass grub-script-check (integration)", async () => {
    await scriptCheck(diskGrubCfg());
    await scriptCheck(embeddedGrubCfg());
    await scriptCheck(isoGrubCfg({ version: "1.0.0" }));
  });

  it("loads only whitelisted variables and saves only what GRUB changes", () => {
    const cfg = diskGrubCfg();
    const load = cfg.split("\n").find((l) => l.includes("load_env --file"));
    assert.ok(load);
    for (const s of SLOTS) for (const k of [ENV_KEYS.status(s), ENV_KEYS.tries(s)]) assert.ok(load.includes(` ${k}`));
    const saves = cfg.split("\n").filter((l) => l.includes("save_env"));
    assert.equal(saves.length, 2, "both copies");
    for (const l of saves) {
      assert.ok(!l.includes(ENV_KEYS.seq), "GRUB never changes seq");
      assert.ok(!l.includes(ENV_KEYS.version("A")));
    }
  });

  it("counts down every try value with an if-chain (no arithmetic)", () => {
    const cfg = diskGrubCfg();
    for (let n = 1; n <= 9; n++) assert.ok(cfg.includes(`[ "$qx_A_tries" = "${n}" ]; then set qx_A_tries=${n - 1};`));
    assert.ok(!/\$\(\(/.test(cfg));
  });

  it("boots the kernel and initramfs out of the slot's raw squashfs", () => {
    const cfg = diskGrubCfg();
    assert.match(cfg, /set qx_part_A=\(\$qx_disk,gpt2\)/);
    assert.match(cfg, /set qx_part_B=\(\$qx_disk,gpt3\)/);
    assert.match(cfg, /linux \$qx_part\/boot\/vmlinuz \$qx_args panic=10/);
    assert.match(cfg, /qx\.trying=1 qx\.watchdog=\$qx_watchdog/);
  });
});
