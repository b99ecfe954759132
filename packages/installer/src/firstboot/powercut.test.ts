/**
 * Power cuts during the first boot, injected before every single write.
 *
 * Model: the filesystem operations of a boot happen in order; a power cut after the
 * k-th one means operations 1..k persisted (each write is fsynced before the next, so
 * /quantix holds a prefix) and nothing after: every later write fails as if the disk
 * were gone. Then the machine "reboots": the volatile state (kernel hostname, the
 * tmpfs /etc) is reset and qx-firstboot runs again, possibly cut again. For every pair
 * of cut points (the second one sampled), the third boot must end with exactly one identity, recorded in
 * node.yaml and firstboot.done, and equal to the first one that reached the disk.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { promises as fsp } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { configPaths, nodeConfigFile } from "@quantix/core";
import { AuthStore } from "@quantix/node/services/auth-store";
import { hashPassword } from "@quantix/node/services/password-hash";
import { runFirstboot } from "./firstboot.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));

class PowerCut extends Error {
  override name = "PowerCut";
}

type AnyFn = (...args: unknown[]) => unknown;

/**
 * Counts mutating filesystem calls; from call number `cutAt` on, each one throws
 * PowerCut instead of running. `cutAt = Infinity` only counts.
 */
async function withPowerCut<T>(cutAt: number, f: () => Promise<T>): Promise<{ result: T | null; ops: number; cut: boolean }> {
  let ops = 0;
  let cut = false;
  const probe = await fsp.open(join(tmpdir(), `qx-probe-${process.pid}`), "w");
  const handleProto = Object.getPrototypeOf(probe) as Record<string, AnyFn>;
  await probe.close();
  await fsp.rm(join(tmpdir(), `qx-probe-${process.pid}`), { force: true });

  const isWriteOpen = (flags: unknown): boolean =>
    typeof flags === "number" ? (flags & 3) !== 0 || (flags & 64) !== 0 : typeof flags === "string" && /[wa+]/.test(flags);
  const fsObj = fsp as unknown as Record<string, AnyFn>;
  const guard = (target: Record<string, AnyFn>, name: string, mutating: (args: unknown[]) => boolean = () => true) => {
    const orig = target[name]!;
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (mutating(args)) {
        ops++;
        if (ops >= cutAt) {
          cut = true;
          const err = new PowerCut(`power cut during write #${ops} (${name})`);
          // A whole-file write is open(O_TRUNC) + write: the cut can fall in between.
          if (target === fsObj && name === "writeFile" && ops === cutAt) return (orig.call(this, args[0], "") as Promise<void>).then(() => Promise.reject(err));
          return Promise.reject(err);
        }
      }
      return orig.apply(this, args);
    };
    return () => {
      target[name] = orig;
    };
  };
  const restores = [
    guard(fsObj, "writeFile"),
    guard(fsObj, "rename"),
    guard(fsObj, "mkdir"),
    guard(fsObj, "rm"),
    guard(fsObj, "unlink"),
    guard(fsObj, "open", (a) => isWriteOpen(a[1])),
    guard(handleProto, "writeFile"),
    guard(handleProto, "write"),
  ];
  syncBuiltinESMExports();
  try {
    const result = await f().catch((e) => {
      if (cut) return null; // the "machine" stopped mid-way
      throw e;
    });
    return { result, ops, cut };
  } finally {
    for (const r of restores.reverse()) r();
    syncBuiltinESMExports();
  }
}

describe("qx-firstboot under power cuts", () => {
  let root = "";
  let hash = "";
  const volatile = async () => {
    // A reboot: the kernel hostname and the tmpfs /etc come back from the image.
    await writeFile(join(root, "proc/sys/kernel/hostname"), "localhost\n");
    await rm(join(root, "etc"), { recursive: true, force: true });
    await mkdir(join(root, "etc/quantix"), { recursive: true });
    await copyFile(join(REPO, "overlay/etc/quantix/defaults.yaml"), join(root, "etc/quantix/defaults.yaml"));
    await copyFile(join(REPO, "overlay/etc/hosts"), join(root, "etc/hosts"));
    await copyFile(join(REPO, "overlay/etc/hostname"), join(root, "etc/hostname"));
  };
  const freshInstall = async () => {
    await rm(root, { recursive: true, force: true });
    await mkdir(join(root, "proc/sys/kernel"), { recursive: true });
    await mkdir(join(root, "quantix"), { recursive: true });
    // What the installer leaves from an answer file.
    await writeFile(
      join(root, "quantix/install.yaml"),
      `${JSON.stringify({ installed_at: "2026-01-01T00:00:00.000Z", version: "9.9.9", hostname: "rack1-node3", admin_password_hash: hash })}\n`,
    );
    await volatile();
  };
  let ids = 0;
  const boot = (cutAt: number) =>
    withPowerCut(cutAt, () =>
      runFirstboot({
        root,
        log: () => undefined,
        newNodeId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`,
      }),
    );

  before(async () => {
    // tmpfs when there is one: hundreds of boots, each fsyncing every write.
    const base = await stat("/dev/shm").then(
      (st) => (st.isDirectory() ? "/dev/shm" : tmpdir()),
      () => tmpdir(),
    );
    root = await mkdtemp(join(base, "qx-powercut-"));
    hash = await hashPassword("installer-secret-1", { logN: 10, r: 8, p: 1 });
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("a clean first boot does a known, finite number of writes", async () => {
    await freshInstall();
    const r = await boot(Number.POSITIVE_INFINITY);
    assert.equal(r.cut, false);
    assert.equal(r.result?.ok, true);
    assert.ok(r.ops >= 10, `expected at least 10 writes, counted ${r.ops}`);
  });

  it("every pair of cut points ends in one identity, the first one that reached the disk", async () => {
    await freshInstall();
    const total = (await boot(Number.POSITIVE_INFINITY)).ops;
    let cases = 0;
    for (let k1 = 1; k1 <= total; k1++) {
      // Second cuts: every third write, and none (total + 1).
      for (let k2 = 1; k2 <= total + 1; k2 = k2 + 3 > total + 1 && k2 < total + 1 ? total + 1 : k2 + 3) {
        await freshInstall();
        const first = await boot(k1);
        assert.equal(first.cut, true, `cut #${k1} must interrupt the first boot`);
        const idAfterFirst = await nodeConfigFile(root)
          .load()
          .then((v) => v.node_id)
          .catch(() => null);
        await volatile();
        await boot(k2); // may be cut too (k2 > its writes: it completes)
        const idAfterSecond = await nodeConfigFile(root)
          .load()
          .then((v) => v.node_id)
          .catch(() => null);
        await volatile();
        const third = await boot(Number.POSITIVE_INFINITY);
        const where = `cut at write ${k1}, then at write ${k2}`;
        assert.equal(third.result?.ok, true, where);
        const node = await nodeConfigFile(root).load();
        if (idAfterFirst) assert.equal(node.node_id, idAfterFirst, `${where}: identity changed after it reached the disk`);
        if (idAfterSecond) assert.equal(node.node_id, idAfterSecond, `${where}: identity changed after the second boot`);
        assert.equal(node.hostname, "rack1-node3", where);
        const p = configPaths(root);
        assert.match(await readFile(p.firstbootDone, "utf8"), new RegExp(`^node_id=${node.node_id}$`, "m"), where);
        assert.deepEqual((await readdir(p.dir)).filter((n) => n.endsWith(".tmp")), [], `${where}: temporary files left`);
        assert.equal(await readFile(join(root, "proc/sys/kernel/hostname"), "utf8"), "rack1-node3", where);
        const store = new AuthStore(join(p.dir, "auth"));
        assert.equal(await store.verifyAdmin("admin", "installer-secret-1"), true, `${where}: admin credential`);
        // A fourth boot changes nothing.
        await volatile();
        const fourth = await boot(Number.POSITIVE_INFINITY);
        assert.ok(
          fourth.result?.phases.every((ph) => ph.status === "skipped" || (ph.name === "applyHostname" && ph.status === "done")),
          `${where}: fourth boot: ${JSON.stringify(fourth.result?.phases.map((x) => [x.name, x.status]))}`,
        );
        cases++;
      }
    }
    assert.ok(cases >= 100, `${cases} interrupted sequences`);
    process.stdout.write(`# ${total} writes in a clean first boot; ${cases} doubly interrupted sequences checked\n`);
  });
});
