import assert from "node:assert/strict";
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { GrubEnvError } from "../errors.ts";
import { run } from "../exec.ts";
import { type BootEnv, bootEnvPaths, bootEnvToGrubEnv, DEFAULT_BOOT_SETTINGS, grubEnvToBootEnv, readBootEnv, writeBootEnv } from "./boot-env.ts";
import { beginInstall, completeInstall, initialState } from "./slots.ts";

const env1: BootEnv = { state: initialState("1.0.0"), settings: DEFAULT_BOOT_SETTINGS };
const env2: BootEnv = { state: completeInstall(beginInstall(env1.state, "A"), "A", "1.1.0"), settings: { watchdogSeconds: 120, cmdline: "console=ttyS0,115200" } };

describe("boot environment (two copies)", () => {
  let esp = "";
  beforeEach(async () => {
    esp = await mkdtemp(join(tmpdir(), "qx-esp-"));
  });
  afterEach(async () => {
    await rm(esp, { recursive: true, force: true });
  });

  it("round-trips the state through both copies, seq first and seq_end last", async () => {
    await writeBootEnv(esp, env2);
    const r = await readBootEnv(esp);
    assert.deepEqual({ state: r.state, settings: r.settings }, env2);
    assert.equal(r.source, "primary");
    assert.deepEqual(r.problems, []);
    const keys = [...bootEnvToGrubEnv(env2).keys()];
    assert.equal(keys[0], "qx_seq");
    assert.equal(keys.at(-1), "qx_seq_end");
    const { stdout } = await run("grub-editenv", [bootEnvPaths(esp).backup, "list"]);
    assert.match(stdout, /^qx_B_state=trying$/m);
    assert.match(stdout, /^qx_primary=B$/m);
  });

  it("a torn primary copy (half a block new, half old) falls back to the backup", async () => {
    await writeBootEnv(esp, env1);
    const paths = bootEnvPaths(esp);
    // Simulate a power cut while the primary copy is rewritten: only the first 512 bytes land.
    const { encodeGrubEnv } = await import("./grub-env.ts");
    const next = encodeGrubEnv(bootEnvToGrubEnv({ ...env2, settings: { ...env2.settings, cmdline: "x".repeat(500) } }));
    const fh = await open(paths.primary, "r+");
    await fh.write(next, 0, 512, 0);
    await fh.close();
    const r = await readBootEnv(esp);
    assert.equal(r.source, "backup");
    assert.deepEqual(r.state, env1.state);
    assert.match(r.problems.join(";"), /torn write|missing/);
  });

  it("a truncated or garbled primary falls back to the backup; both broken is a clear error", async () => {
    await writeBootEnv(esp, env2);
    const paths = bootEnvPaths(esp);
    await writeFile(paths.primary, (await readFile(paths.primary)).subarray(0, 120));
    assert.equal((await readBootEnv(esp)).source, "backup");
    await writeFile(paths.primary, Buffer.alloc(1024, 0xff));
    assert.equal((await readBootEnv(esp)).source, "backup");
    await rm(paths.backup);
    await assert.rejects(readBootEnv(esp), (e: unknown) => e instanceof GrubEnvError && /no valid boot environment/.test(e.message));
  });

  it("reports a stale backup (power cut between the two writes)", async () => {
    await writeBootEnv(esp, env1);
    const paths = bootEnvPaths(esp);
    const old = await readFile(paths.backup);
    await writeBootEnv(esp, env2);
    await writeFile(paths.backup, old);
    const r = await readBootEnv(esp);
    assert.equal(r.source, "primary");
    assert.deepEqual(r.state, env2.state);
    assert.match(r.problems.join(";"), /stale/);
  });

  it("reads what GRUB's save_env leaves (tries decremented by grub-editenv)", async () => {
    await writeBootEnv(esp, env2);
    for (const f of Object.values(bootEnvPaths(esp))) await run("grub-editenv", [f, "set", "qx_B_tries=2"]);
    assert.equal((await readBootEnv(esp)).state.slots.B.tries, 2);
  });

  it("rejects invalid values naming the variable", () => {
    const m = bootEnvToGrubEnv(env1);
    m.set("qx_A_state", "maybe");
    assert.throws(() => grubEnvToBootEnv(m), /qx_A_state must be one of good\|trying\|bad\|empty, got maybe/);
    const m2 = bootEnvToGrubEnv(env1);
    m2.set("qx_primary", "C");
    assert.throws(() => grubEnvToBootEnv(m2), /qx_primary must be A or B/);
    const m3 = bootEnvToGrubEnv(env1);
    m3.set("qx_B_tries", "12");
    assert.throws(() => grubEnvToBootEnv(m3), /qx_B_tries must be 0\.\.9/);
  });

  it("creates the grub directory on a fresh ESP", async () => {
    await mkdir(join(esp, "EFI"), { recursive: true });
    await writeBootEnv(esp, env1);
    assert.equal((await readBootEnv(esp)).state.seq, 1);
  });
});
