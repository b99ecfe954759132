import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { configPaths, lastGoodPathFor, loadDefaults, networkConfigFile, nodeConfigFile } from "@quantix/core";
import { runFirstboot } from "./firstboot.ts";
import { hostnameFor } from "./identity.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const DEFAULTS = join(REPO, "overlay/etc/quantix/defaults.yaml");
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("qx-firstboot", () => {
  let root = "";
  let lines: string[] = [];
  const boot = (extra: Parameters<typeof runFirstboot>[0] = {}) => {
    lines = [];
    return runFirstboot({ root, log: (l) => lines.push(l), ...extra });
  };

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "qx-firstboot-"));
    await mkdir(join(root, "etc/quantix"), { recursive: true });
    await mkdir(join(root, "proc/sys/kernel"), { recursive: true });
    await copyFile(DEFAULTS, join(root, "etc/quantix/defaults.yaml"));
    await copyFile(join(REPO, "overlay/etc/hosts"), join(root, "etc/hosts"));
    await copyFile(join(REPO, "overlay/etc/hostname"), join(root, "etc/hostname"));
    await writeFile(join(root, "proc/sys/kernel/hostname"), "localhost\n");
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("creates the identity, network.yaml, certificates/, the hostname and firstboot.done, in phase order", async () => {
    const report = await boot();
    assert.equal(report.ok, true, lines.join("\n"));
    assert.deepEqual(
      report.phases.map((p) => p.name),
      ["ensureConfigDir", "ensureIdentity", "ensureNetworkConfig", "ensureCertDir", "ensureAdminCredential", "applyHostname", "markDone"],
    );
    assert.equal(lines.length, 7, "one line per phase");
    const p = configPaths(root);
    const node = await nodeConfigFile(root).load();
    assert.match(node.node_id, UUID_V4);
    const prefix = (await loadDefaults(root)).node.hostname_prefix;
    assert.equal(node.hostname, `${prefix}-${node.node_id.slice(0, 4)}`);
    assert.deepEqual(await networkConfigFile(root).load(), (await loadDefaults(root)).network);
    const certs = await stat(p.certificates);
    assert.ok(certs.isDirectory());
    assert.equal(certs.mode & 0o777, 0o700);
    assert.deepEqual(await readdir(p.certificates), [], "no TLS pair here: qx-node makes it");
    assert.equal(await readFile(join(root, "proc/sys/kernel/hostname"), "utf8"), node.hostname);
    assert.equal(await readFile(join(root, "etc/hostname"), "utf8"), `${node.hostname}\n`);
    const hosts = await readFile(join(root, "etc/hosts"), "utf8");
    assert.match(hosts, new RegExp(`^127\\.0\\.1\\.1\\t${node.hostname}$`, "m"));
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m, "other lines kept");
    const doneText = await readFile(p.firstbootDone, "utf8");
    assert.match(doneText, new RegExp(`^node_id=${node.node_id}$`, "m"));
    assert.match(doneText, /^completed_at=\d{4}-\d\d-\d\dT/m);
  });

  it("is idempotent: a second boot keeps the identity and changes nothing", async () => {
    await boot();
    const p = configPaths(root);
    const before = await Promise.all([p.node, p.network, p.firstbootDone].map((f) => readFile(f, "utf8")));
    const report = await boot({ newNodeId: () => assert.fail("no new node_id on a second boot") });
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.phases.map((x) => x.status),
      ["skipped", "skipped", "skipped", "skipped", "skipped", "skipped", "skipped"],
      lines.join("\n"),
    );
    const after = await Promise.all([p.node, p.network, p.firstbootDone].map((f) => readFile(f, "utf8")));
    assert.deepEqual(after, before);
  });

  it("applies the hostname from node.yaml on every boot, also after firstboot.done", async () => {
    await boot();
    const node = await nodeConfigFile(root).load();
    await nodeConfigFile(root).write({ ...node, hostname: "rack3-node7" });
    await writeFile(join(root, "proc/sys/kernel/hostname"), "localhost\n"); // a fresh boot
    const report = await boot();
    assert.equal(report.ok, true);
    assert.equal(await readFile(join(root, "proc/sys/kernel/hostname"), "utf8"), "rack3-node7");
    assert.match(await readFile(join(root, "etc/hosts"), "utf8"), /^127\.0\.1\.1\track3-node7$/m);
    assert.equal((await nodeConfigFile(root).load()).node_id, node.node_id);
  });

  it("never yields a second identity whichever files a power cut or an operator left behind", async () => {
    await boot();
    const p = configPaths(root);
    const id = (await nodeConfigFile(root).load()).node_id;
    const files = [p.node, lastGoodPathFor(p.node), p.network, p.certificates, p.firstbootDone];
    const snapshot = new Map<string, string>();
    for (const f of files) if (f !== p.certificates) snapshot.set(f, await readFile(f, "utf8"));
    for (let mask = 1; mask < 1 << files.length; mask++) {
      for (const [f, text] of snapshot) {
        await mkdir(dirname(f), { recursive: true });
        await writeFile(f, text);
      }
      await mkdir(p.certificates, { recursive: true, mode: 0o700 });
      const gone = files.filter((_, i) => mask & (1 << i));
      for (const f of gone) await rm(f, { recursive: true, force: true });
      const identityLost = [p.node, lastGoodPathFor(p.node), p.firstbootDone].every((f) => gone.includes(f));
      const report = await boot({ newNodeId: () => "0b9f6c1e-2d3a-4e5f-8a7b-9c0d1e2f3a4b" });
      assert.equal(report.ok, true, `${gone.join(" ")}: ${lines.join(" | ")}`);
      const now = (await nodeConfigFile(root).load()).node_id;
      if (identityLost) assert.equal(now, "0b9f6c1e-2d3a-4e5f-8a7b-9c0d1e2f3a4b");
      else assert.equal(now, id, `removed ${gone.map((g) => g.slice(root.length)).join(", ")}`);
      assert.match(await readFile(p.firstbootDone, "utf8"), new RegExp(`node_id=${now}`));
    }
  });

  it("removes the temporary file of an interrupted atomic write and creates the identity once", async () => {
    const p = configPaths(root);
    await mkdir(p.dir, { recursive: true });
    await writeFile(join(p.dir, ".node.yaml.4242.lz3k9a.tmp"), "node_id: half-writ");
    const report = await boot();
    assert.equal(report.ok, true);
    assert.match(report.phases[0]!.message, /removed 1 interrupted/);
    assert.ok(!(await readdir(p.dir)).some((n) => n.endsWith(".tmp")));
  });

  it("leaves a broken node.yaml untouched and uses the last good copy for this boot", async () => {
    await boot();
    const p = configPaths(root);
    const good = await nodeConfigFile(root).load();
    await rm(p.firstbootDone);
    const broken = "node_id: [oops\nhostname: x\n";
    await writeFile(p.node, broken);
    const report = await boot({ newNodeId: () => assert.fail("must not draw a new node_id") });
    assert.equal(report.ok, true, lines.join("\n"));
    const identity = report.phases.find((x) => x.name === "ensureIdentity")!;
    assert.equal(identity.status, "warning");
    assert.match(identity.message, /broken.*last good copy/);
    assert.equal(await readFile(p.node, "utf8"), broken, "never overwritten");
    assert.equal(await readFile(join(root, "proc/sys/kernel/hostname"), "utf8"), good.hostname);
    assert.equal(report.phases.at(-1)!.status, "warning", "not marked done while node.yaml is broken");
    await assert.rejects(readFile(p.firstbootDone));
  });

  it("fails (and does not mark done) when node.yaml is broken and nothing records the node_id", async () => {
    const p = configPaths(root);
    await mkdir(p.dir, { recursive: true });
    await writeFile(p.node, "hostname: quantix-zzzz\n");
    const report = await boot({ newNodeId: () => assert.fail("must not draw a new node_id") });
    assert.equal(report.ok, false);
    const byName = Object.fromEntries(report.phases.map((x) => [x.name, x]));
    assert.equal(byName.ensureIdentity!.status, "failed");
    assert.match(byName.ensureIdentity!.message, /not creating a second identity/);
    assert.equal(byName.ensureNetworkConfig!.status, "done", "independent phases still run");
    assert.equal(byName.ensureCertDir!.status, "done");
    assert.equal(byName.markDone!.status, "not-run");
    assert.equal(await readFile(p.node, "utf8"), "hostname: quantix-zzzz\n");
    await assert.rejects(readFile(p.firstbootDone));
  });

  it("keeps an existing network.yaml, even an operator's static one", async () => {
    const p = configPaths(root);
    await mkdir(p.dir, { recursive: true });
    const text = "management:\n  interface: eth1\n  mode: static\n  address: 10.0.0.5/24\n  gateway: 10.0.0.1\n";
    await writeFile(p.network, text);
    assert.equal((await boot()).ok, true);
    assert.equal(await readFile(p.network, "utf8"), text);
  });

  it("hostnameFor takes the first 4 hex digits of the node_id", () => {
    assert.equal(hostnameFor("quantix", "AB12cdef-0000-4000-8000-000000000000"), "quantix-ab12");
  });

  it("the CLI runs the sequence and exits 0, then 1 when a phase fails", async () => {
    const cli = fileURLToPath(new URL("../cli/qx-firstboot.ts", import.meta.url));
    const ok = spawnSync(process.execPath, ["--import", "tsx", cli, "--root", root], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /qx-firstboot: ensureIdentity: created node\.yaml/);
    await writeFile(configPaths(root).node, "node_id: nope\n");
    const bad = spawnSync(process.execPath, ["--import", "tsx", cli, "--root", root], { encoding: "utf8" });
    assert.equal(bad.status, 0, "a broken node.yaml with a last good copy is a warning, not a failure");
    await rm(lastGoodPathFor(configPaths(root).node));
    await rm(configPaths(root).firstbootDone);
    const worse = spawnSync(process.execPath, ["--import", "tsx", cli, "--root", root], { encoding: "utf8" });
    assert.equal(worse.status, 1);
    assert.match(worse.stderr, /failed: ensureIdentity, applyHostname/);
  });
});
