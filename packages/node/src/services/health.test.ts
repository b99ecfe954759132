import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import { fakeRunner, makeRoot, removeRoot, testContext } from "../test-support.ts";
import { checkHealth, createHealthService } from "./health.ts";

describe("health checks", () => {
  const roots: string[] = [];
  async function root(files?: Record<string, string>): Promise<string> {
    const r = await makeRoot(files);
    roots.push(r);
    return r;
  }
  afterEach(async () => {
    for (const r of roots.splice(0)) await removeRoot(r);
  });

  it("all components pass: healthy, with version and slot", async () => {
    const doc = await checkHealth(testContext(await root()));
    assert.equal(doc.status, "healthy", JSON.stringify(doc, null, 2));
    assert.deepEqual(doc.failing, []);
    assert.deepEqual(Object.keys(doc.components), ["libvirtd", "ovs", "data", "config", "slot", "version", "boot"]);
    assert.equal(doc.version, "1.2.3");
    assert.equal(doc.slot, "B");
    assert.match(doc.components["libvirtd"]?.detail ?? "", /libvirtd 11\.3\.0, QEMU 10\.0\.2/);
    assert.match(doc.components["ovs"]?.detail ?? "", /Open vSwitch 3\.5\.0, 1 bridge$/);
    assert.match(doc.components["data"]?.detail ?? "", /xfs on \/dev\/vda5, writable/);
  });

  it("names the failing components with the tools' own words", async () => {
    const runner = fakeRunner({ "ovs-vsctl": { exitCode: 1, stderr: "ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed (No such file or directory)" } });
    const doc = await checkHealth(testContext(await root(), runner));
    assert.equal(doc.status, "degraded");
    assert.deepEqual(doc.failing, ["ovs"]);
    assert.match(doc.components["ovs"]?.detail ?? "", /database connection failed/);
    assert.ok(runner.calls.includes("ovs-vsctl --timeout=2 show"), runner.calls.join("; "));
  });

  it("/data not a mount point, or mounted read-only, fails the data component", async () => {
    const r = await root({ "proc/self/mountinfo": "22 1 0:21 / / rw - overlay overlay rw\n" });
    let doc = await checkHealth(testContext(r));
    assert.deepEqual(doc.failing, ["data"]);
    assert.match(doc.components["data"]?.detail ?? "", /\/data is not mounted/);
    await writeFile(join(r, "proc/self/mountinfo"), "36 22 8:5 / /data ro,relatime - xfs /dev/vda5 ro\n");
    doc = await checkHealth(testContext(r));
    assert.match(doc.components["data"]?.detail ?? "", /read-only/);
  });

  it("a broken node.yaml fails config with the file and field, on the last good copy", async () => {
    const r = await root();
    await checkHealth(testContext(r)); // loads cleanly once: a last good copy exists
    await writeFile(join(r, "quantix/node.yaml"), 'node_id: "550e8400-e29b-41d4-a716-446655440000"\nhostname: "Bad_Name"\n');
    const doc = await checkHealth(testContext(r));
    assert.deepEqual(doc.failing, ["config"]);
    const c = doc.components["config"];
    assert.match(c?.detail ?? "", /quantix\/node\.yaml: hostname: expected a host name/);
    assert.equal(c?.data?.["node"], "last-good");
    assert.equal(c?.data?.["network"], "file");
  });

  it("slot: missing qx.slot, disagreeing initramfs, unmounted config partition, trial boot", async () => {
    const r = await root({ "proc/cmdline": "quiet\n" });
    assert.match((await checkHealth(testContext(r))).components["slot"]?.detail ?? "", /no qx\.slot=A\|B/);
    await writeFile(join(r, "proc/cmdline"), "qx.slot=A\n");
    assert.match((await checkHealth(testContext(r))).components["slot"]?.detail ?? "", /kernel says slot A, initramfs says B/);
    await writeFile(join(r, "proc/cmdline"), "qx.slot=B qx.trying=1\n");
    await writeFile(join(r, "run/quantix/initramfs.status"), "QX_SLOT='B'\nQX_CONFIG='error:mount /dev/vda4 failed: bad superblock'\n");
    let slot = (await checkHealth(testContext(r))).components["slot"];
    assert.equal(slot?.ok, false);
    assert.match(slot?.detail ?? "", /config partition is not mounted \(mount \/dev\/vda4 failed: bad superblock\)/);
    await writeFile(join(r, "run/quantix/initramfs.status"), "QX_SLOT='B'\nQX_CONFIG='mounted'\n");
    slot = (await checkHealth(testContext(r))).components["slot"];
    assert.equal(slot?.ok, true);
    assert.equal(slot?.detail, "slot B (on trial, not yet marked good)");
  });

  it("a missing release file fails version", async () => {
    const r = await root({ "etc/quantix/release": "QX_ARCH=x86_64\n" });
    const doc = await checkHealth(testContext(r));
    assert.deepEqual(doc.failing, ["version"]);
    assert.equal(doc.version, null);
  });

  it("a hanging tool cannot hold the request: the check fails at its deadline", async () => {
    const runner = fakeRunner({ virsh: "hang" });
    const started = Date.now();
    const doc = await checkHealth(testContext(await root(), runner), { timeoutMs: 800 });
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.deepEqual(doc.failing, ["libvirtd"]);
    assert.match(doc.components["libvirtd"]?.detail ?? "", /libvirtd did not answer within 550 ms/);
  });

  it("a check that never settles is cut off by the health deadline", async () => {
    const ctx = testContext(await root());
    const doc = await checkHealth(ctx, { timeoutMs: 300, checks: { stuck: () => new Promise(() => {}), version: async () => ({ ok: true, detail: "x" }) } });
    assert.deepEqual(doc.failing, ["stuck"]);
    assert.equal(doc.components["stuck"]?.detail, "stuck check: no answer within 300 ms");
  });

  it("checks run in parallel and a burst of requests shares one round", async () => {
    const r = await root();
    const runner = fakeRunner();
    const svc = createHealthService(testContext(r, runner), { ttlMs: 60_000 });
    const docs = await Promise.all([svc.get(), svc.get(), svc.get()]);
    await svc.get();
    assert.equal(runner.calls.filter((c) => c.startsWith("virsh")).length, 1);
    assert.equal(docs[0], docs[2]);
    const fresh = createHealthService(testContext(r, runner), { ttlMs: 0 });
    await fresh.get();
    await fresh.get();
    assert.equal(runner.calls.filter((c) => c.startsWith("virsh")).length, 3);
  });

  it("a healthy result is reused for 15 s, a degraded one for 5 s", async () => {
    const r = await root();
    let t = 1_000_000;
    let ok = true;
    let rounds = 0;
    const checks = {
      probe: async () => {
        rounds++;
        return { ok, detail: ok ? "fine" : "broken" };
      },
    };
    const svc = createHealthService({ ...testContext(r), now: () => t }, { checks });
    assert.equal((await svc.get()).status, "healthy");
    t += 14_000;
    await svc.get();
    assert.equal(rounds, 1, "healthy: reused for 15 s");
    ok = false;
    t += 1_500;
    assert.equal((await svc.get()).status, "degraded");
    assert.equal(rounds, 2);
    t += 4_500;
    await svc.get();
    assert.equal(rounds, 2, "degraded: reused within 5 s");
    ok = true;
    t += 600;
    assert.equal((await svc.get()).status, "healthy", "recovery is seen after 5 s");
    assert.equal(rounds, 3);
  });

  it("one timeout after a good round is forgiven once (re-checked in 5 s); two in a row, a refusal, or no good round before fail", async () => {
    const r = await root();
    let t = 1_000_000;
    let answer: "ok" | "slow" | "refused" = "slow";
    let rounds = 0;
    const checks = {
      libvirtd: async () => {
        rounds++;
        if (answer === "ok") return { ok: true, detail: "libvirtd 11.3.0" };
        if (answer === "slow") return { ok: false, detail: "libvirtd did not answer within 2750 ms", timedOut: true };
        return { ok: false, detail: "failed to connect to the hypervisor" };
      },
    };
    const svc = createHealthService({ ...testContext(r), now: () => t }, { checks });
    assert.equal((await svc.get()).status, "degraded", "a timeout before any good round is a failure");
    answer = "ok";
    t += 5_000;
    assert.equal((await svc.get()).status, "healthy");
    answer = "slow";
    t += 15_000;
    const slow = await svc.get();
    assert.equal(slow.status, "healthy", "one slow round after a good one");
    assert.equal(slow.components["libvirtd"]?.slow, true);
    assert.match(slow.components["libvirtd"]?.detail ?? "", /libvirtd 11\.3\.0 \(the last check was slow: libvirtd did not answer within 2750 ms/);
    t += 5_000;
    const twice = await svc.get();
    assert.equal(rounds, 4, "a forgiven round is re-checked after 5 s, not 15");
    assert.equal(twice.status, "degraded", "the second timeout in a row fails");
    assert.deepEqual(twice.failing, ["libvirtd"]);
    answer = "ok";
    t += 5_000;
    assert.equal((await svc.get()).status, "healthy");
    answer = "refused";
    t += 15_000;
    assert.equal((await svc.get()).status, "degraded", "a refusal fails at once");
    // The deadline of the health service itself counts as a timeout too.
    const hanging = createHealthService({ ...testContext(r), now: () => t }, {
      timeoutMs: 600,
      checks: { a: async () => (answer === "ok" ? { ok: true, detail: "fine" } : new Promise<never>(() => {})) },
    });
    answer = "ok";
    assert.equal((await hanging.get()).status, "healthy");
    answer = "slow";
    t += 15_000;
    assert.equal((await hanging.get()).status, "healthy");
    t += 5_000;
    assert.equal((await hanging.get()).status, "degraded");
  });

  it("a node failing the same way for under a minute (a boot) is re-checked every 5 s", async () => {
    const r = await root();
    let t = 1_000_000;
    let rounds = 0;
    let ok = false;
    const checks = {
      a: async () => {
        rounds++;
        return { ok, detail: "a" };
      },
    };
    const svc = createHealthService({ ...testContext(r), now: () => t }, { checks });
    for (let i = 1; i <= 12; i++) {
      assert.equal((await svc.get()).status, "degraded");
      assert.equal(rounds, i, `round ${i}`);
      t += 5_000;
    }
    // 60 s of the same failure: from now on the re-checks back off.
    assert.equal((await svc.get()).status, "degraded");
    assert.equal(rounds, 13);
    t += 5_000;
    await svc.get();
    assert.equal(rounds, 13, "settled: reused for 10 s");
    ok = true;
    t += 5_000;
    assert.equal((await svc.get()).status, "healthy");
    assert.equal(rounds, 14);
  });

  it("a node that stays degraded the same way is re-checked after 5, 10, then every 15 s; a change starts over", async () => {
    const r = await root();
    let t = 1_000_000;
    let failing = ["a"];
    let rounds = 0;
    const checks = {
      a: async () => {
        rounds++;
        return { ok: !failing.includes("a"), detail: "a" };
      },
      b: async () => ({ ok: !failing.includes("b"), detail: "b" }),
    };
    const svc = createHealthService({ ...testContext(r), now: () => t }, { checks, settleMs: 0 });
    const roundsAfter = async (ms: number) => {
      t += ms;
      await svc.get();
      return rounds;
    };
    assert.equal(await roundsAfter(0), 1);
    assert.equal(await roundsAfter(5_000), 2, "first degraded result: reused for 5 s");
    assert.equal(await roundsAfter(9_000), 2, "the same again: 10 s");
    assert.equal(await roundsAfter(1_000), 3);
    assert.equal(await roundsAfter(14_000), 3, "then 15 s");
    assert.equal(await roundsAfter(1_000), 4);
    assert.equal(await roundsAfter(15_000), 5, "and 15 s from then on");
    failing = ["a", "b"];
    assert.equal(await roundsAfter(15_000), 6);
    assert.equal(await roundsAfter(5_000), 7, "another failing set: 5 s again");
  });
});
