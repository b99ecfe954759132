import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, it } from "node:test";
import { ConfigError } from "../errors.ts";
import { configPaths, loadDefaults, networkConfigFile, nodeConfigFile } from "./files.ts";

const SEED_NODE = `# /quantix/node.yaml
node_id: "550e8400-e29b-41d4-a716-446655440000"
hostname: "quantix-01" # the node's name
cluster_url: "https://control-plane.example.com:6443"
join_token: "abcd.0123456789"
`;
const SEED_NETWORK = `# /quantix/network.yaml
management:
  interface: "eth0"
  mode: "static"
  address: "192.168.1.100/24"
  gateway: "192.168.1.1"
  dns:
    - "8.8.8.8"
    - "8.8.4.4"
`;

describe("configuration files", () => {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "qx-config-"));
    await mkdir(configPaths(root).dir, { recursive: true });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  async function put(name: "node" | "network", text: string): Promise<string> {
    const p = configPaths(root)[name];
    await writeFile(p, text);
    return p;
  }

  async function oneLineError(f: () => Promise<unknown>): Promise<ConfigError> {
    try {
      await f();
    } catch (e) {
      assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
      assert.ok(!e.message.includes("\n"), `one line: ${e.message}`);
      return e;
    }
    assert.fail("expected an error");
  }

  it("loads the seed's node.yaml and network.yaml as written", async () => {
    await put("node", SEED_NODE);
    await put("network", SEED_NETWORK);
    const node = await nodeConfigFile(root).load();
    assert.equal(node.hostname, "quantix-01");
    const net = await networkConfigFile(root).load();
    assert.deepEqual(net.management.dns, ["8.8.8.8", "8.8.4.4"]);
  });

  it("a wrong type names file and field", async () => {
    const p = await put("network", SEED_NETWORK.replace('"eth0"', "42"));
    const e = await oneLineError(() => networkConfigFile(root).load());
    assert.equal(e.file, p);
    assert.equal(e.fieldPath, "management.interface");
    assert.match(e.message, /network\.yaml: management\.interface: expected string, received number, got 42/);
  });

  it("a bad CIDR names file, field and the expected form", async () => {
    await put("network", SEED_NETWORK.replace("192.168.1.100/24", "192.168.1.300/24"));
    const e = await oneLineError(() => networkConfigFile(root).load());
    assert.equal(e.fieldPath, "management.address");
    assert.match(e.message, /expected an IPv4 address in CIDR form .*got "192\.168\.1\.300\/24"/);
  });

  it("malformed YAML gives line and column", async () => {
    await put("node", 'node_id: "550e8400-e29b-41d4-a716-446655440000"\nhostname: [unclosed\n');
    const e = await oneLineError(() => nodeConfigFile(root).load());
    assert.match(e.message, /node\.yaml: line \d+, column \d+: YAML syntax error/);
  });

  it("rules across fields: static needs an address, the gateway must be in the subnet, VLAN range", async () => {
    await put("network", "management:\n  interface: eth0\n  mode: static\n");
    assert.equal((await oneLineError(() => networkConfigFile(root).load())).fieldPath, "management.address");
    await put("network", SEED_NETWORK.replace('gateway: "192.168.1.1"', 'gateway: "10.0.0.1"'));
    assert.match((await oneLineError(() => networkConfigFile(root).load())).message, /management\.gateway: gateway 10\.0\.0\.1 is outside 192\.168\.1\.100\/24/);
    await put("network", `${SEED_NETWORK}  vlan: 5000\n`);
    assert.match((await oneLineError(() => networkConfigFile(root).load())).message, /management\.vlan: VLAN tag must be 1\.\.4094/);
  });

  it("unknown fields, bad UUIDs, bad tokens and bad URLs are refused", async () => {
    await put("node", `${SEED_NODE}colour: blue\n`);
    assert.match((await oneLineError(() => nodeConfigFile(root).load())).message, /unknown field colour/);
    await put("node", SEED_NODE.replace("550e8400-e29b-41d4-a716-446655440000", "not-a-uuid"));
    assert.equal((await oneLineError(() => nodeConfigFile(root).load())).fieldPath, "node_id");
    await put("node", SEED_NODE.replace("abcd.0123456789", "xx"));
    assert.equal((await oneLineError(() => nodeConfigFile(root).load())).fieldPath, "join_token");
    await put("node", SEED_NODE.replace("https://control", "http://control"));
    assert.equal((await oneLineError(() => nodeConfigFile(root).load())).fieldPath, "cluster_url");
  });

  it("a comment in node.yaml survives an edit made through the config API", async () => {
    const p = await put("node", SEED_NODE);
    await nodeConfigFile(root).update((doc) => doc.set(["hostname"], "quantix-02"));
    const text = await readFile(p, "utf8");
    assert.match(text, /^# \/quantix\/node\.yaml$/m);
    assert.match(text, /hostname: "?quantix-02"? # the node's name/);
    assert.equal((await nodeConfigFile(root).load()).hostname, "quantix-02");
  });

  it("an invalid edit is refused and the file is left untouched", async () => {
    const p = await put("network", SEED_NETWORK);
    await assert.rejects(
      networkConfigFile(root).update((doc) => doc.merge({ management: { address: "nope" } })),
      (e: unknown) => e instanceof ConfigError && e.fieldPath === "management.address",
    );
    assert.equal(await readFile(p, "utf8"), SEED_NETWORK);
    const leftovers = (await readdir(dirname(p))).filter((f) => f.endsWith(".tmp"));
    assert.deepEqual(leftovers, []);
  });

  it("falls back to the last good copy when the file is broken by hand", async () => {
    const file = nodeConfigFile(root);
    await put("node", SEED_NODE);
    assert.equal((await file.loadWithFallback()).source, "file");
    await put("node", "hostname: [broken\n");
    const r = await file.loadWithFallback();
    assert.equal(r.source, "last-good");
    assert.equal(r.value?.hostname, "quantix-01");
    assert.match(r.error?.message ?? "", /YAML syntax error/);
  });

  it("no file and no last good copy: value null with the reason", async () => {
    const r = await nodeConfigFile(root).loadWithFallback();
    assert.equal(r.source, "none");
    assert.equal(r.value, null);
    assert.match(r.error?.message ?? "", /file not found/);
  });

  it("creates a new file with a header comment", async () => {
    const v = await networkConfigFile(root).update((doc) => doc.set(["management"], { interface: "auto", mode: "dhcp" }), {
      header: " Quantix-OS management network",
    });
    assert.equal(v.management.mode, "dhcp");
    const text = await readFile(configPaths(root).network, "utf8");
    assert.match(text, /^# Quantix-OS management network/);
  });

  it("the image's defaults.yaml is valid", async () => {
    const repo = join(dirname(fileURLToPath(import.meta.url)), "../../../..");
    const d = await loadDefaults(join(repo, "overlay"));
    assert.equal(d.update.health_timeout, 300);
    assert.equal(d.update.allow_unsigned, false);
    assert.equal(d.ssh.enabled, false);
  });
});
