import assert from "node:assert/strict";
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { configPaths, lastGoodPathFor, run, type RunOptions } from "@quantix/core";
import {
  applyNetwork,
  DEFAULT_DHCP,
  defaultNetworkEnv,
  downNetwork,
  loadNetworkConfig,
  type NetInterface,
  NetworkError,
  type OvsAccess,
  parseResolvConf,
  planNetwork,
  readInterfaces,
  showNetwork,
  udhcpcArgs,
} from "./network-apply.ts";

const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
const SCRIPT = join(REPO, "overlay/usr/share/udhcpc/default.script");

const nic = (name: string, ifindex: number, over: Partial<NetInterface> = {}): NetInterface => ({
  name,
  ifindex,
  type: 1,
  physical: true,
  wireless: false,
  carrier: false,
  ...over,
});

const MACHINE: NetInterface[] = [
  nic("lo", 1, { type: 772, physical: false, carrier: true }),
  nic("ifb0", 2, { physical: false }),
  nic("wlp2s0", 3, { wireless: true, carrier: true }),
  nic("enp1s0", 4, { carrier: false }),
  nic("enp2s0", 5, { carrier: true }),
  nic("br0", 6, { physical: false, carrier: true }),
];

describe("planNetwork", () => {
  it("auto + dhcp: lo first, the first physical Ethernet port with carrier, flush, udhcpc", () => {
    const plan = planNetwork({ management: { interface: "auto", mode: "dhcp" } }, MACHINE, { hostname: "quantix-ab12" });
    assert.equal(plan.device, "enp2s0");
    assert.deepEqual(plan.commands, [
      ["link", "set", "lo", "up"],
      ["link", "set", "enp2s0", "up"],
      ["-4", "addr", "flush", "dev", "enp2s0"],
      ["-4", "route", "flush", "dev", "enp2s0"],
      ["link", "set", "enp2s0", "up"],
    ]);
    assert.deepEqual(plan.dhcp, { device: "enp2s0", keepResolvConf: false, hostname: "quantix-ab12" });
    assert.equal(plan.resolvConf, null, "the lease's DNS servers go to resolv.conf");
  });

  it("auto without any carrier takes the lowest ifindex, never a wireless, virtual or loopback one", () => {
    const plan = planNetwork(
      { management: { interface: "auto", mode: "dhcp" } },
      MACHINE.map((i) => (i.name === "enp2s0" ? { ...i, carrier: null } : i)),
    );
    assert.equal(plan.base, "enp1s0");
  });

  it("auto with no physical Ethernet port is a NetworkError naming what exists", () => {
    assert.throws(
      () => planNetwork({ management: { interface: "auto", mode: "dhcp" } }, MACHINE.filter((i) => !i.name.startsWith("enp"))),
      (e: unknown) => e instanceof NetworkError && /no physical Ethernet.*lo, ifb0, wlp2s0, br0/.test(e.message),
    );
  });

  it("a named interface that does not exist is a NetworkError", () => {
    assert.throws(() => planNetwork({ management: { interface: "eth7", mode: "dhcp" } }, MACHINE), /interface eth7 .* does not exist/);
  });

  it("static: address, default route via the gateway, resolv.conf from dns", () => {
    const plan = planNetwork(
      { management: { interface: "enp1s0", mode: "static", address: "192.168.1.100/24", gateway: "192.168.1.1", dns: ["8.8.8.8", "1.1.1.1"] } },
      MACHINE,
    );
    assert.deepEqual(plan.commands, [
      ["link", "set", "lo", "up"],
      ["link", "set", "enp1s0", "up"],
      ["-4", "addr", "flush", "dev", "enp1s0"],
      ["-4", "route", "flush", "dev", "enp1s0"],
      ["addr", "add", "192.168.1.100/24", "dev", "enp1s0"],
      ["link", "set", "enp1s0", "up"],
      ["-4", "route", "replace", "default", "via", "192.168.1.1", "dev", "enp1s0"],
    ]);
    assert.equal(plan.dhcp, null);
    assert.deepEqual(parseResolvConf(plan.resolvConf!), ["8.8.8.8", "1.1.1.1"]);
  });

  it("vlan: creates IF.N on the port (deleting a stale one first) and configures it instead", () => {
    const cfg = { management: { interface: "auto" as const, mode: "static" as const, address: "10.0.0.5/24", vlan: 42 } };
    const fresh = planNetwork(cfg, MACHINE);
    assert.equal(fresh.device, "enp2s0.42");
    assert.deepEqual(fresh.commands.slice(1, 4), [
      ["link", "set", "enp2s0", "up"],
      ["link", "add", "link", "enp2s0", "name", "enp2s0.42", "type", "vlan", "id", "42"],
      ["-4", "addr", "flush", "dev", "enp2s0.42"],
    ]);
    assert.ok(!fresh.commands.some((c) => c.includes("enp2s0") && c[1] === "add" && c[0] === "addr"), "no address on the port itself");
    const again = planNetwork(cfg, [...MACHINE, nic("enp2s0.42", 9, { physical: false })]);
    assert.deepEqual(again.commands[2], ["link", "del", "enp2s0.42"]);
  });

  it("bridge: the port joins the Open vSwitch bridge (with its MAC) and the address goes on the bridge", () => {
    const machine = MACHINE.map((i) => (i.name === "enp2s0" ? { ...i, mac: "52:54:00:12:34:56" } : i));
    const plan = planNetwork(
      { management: { interface: "auto", mode: "static", address: "10.0.0.5/24", gateway: "10.0.0.1", bridge: "vmbr0" }, bridges: [{ name: "vmbr0", uplinks: [], datapath: "system" }] },
      machine,
    );
    assert.equal(plan.device, "vmbr0");
    assert.equal(plan.base, "enp2s0");
    assert.equal(plan.bridge, "vmbr0");
    assert.deepEqual(plan.ovs, [
      ["--may-exist", "add-br", "vmbr0"],
      ["set", "Bridge", "vmbr0", "datapath_type=system", "external_ids:quantix=managed", 'other_config:hwaddr="52:54:00:12:34:56"'],
      ["--may-exist", "add-port", "vmbr0", "enp2s0"],
      ["set", "Port", "enp2s0", "external_ids:quantix=mgmt"],
    ]);
    assert.deepEqual(plan.commands, [
      ["link", "set", "lo", "up"],
      ["link", "set", "enp2s0", "up"],
      ["-4", "addr", "flush", "dev", "enp2s0"],
      ["-4", "addr", "flush", "dev", "vmbr0"],
      ["-4", "route", "flush", "dev", "vmbr0"],
      ["addr", "add", "10.0.0.5/24", "dev", "vmbr0"],
      ["link", "set", "vmbr0", "up"],
      ["-4", "route", "replace", "default", "via", "10.0.0.1", "dev", "vmbr0"],
    ]);
    assert.ok(!plan.commands.some((c) => c.includes("vlan")), "no Linux VLAN device");
  });

  it("bridge + vlan: an internal port BRIDGE.N tagged N carries the address; the port declared as an uplink stays one", () => {
    const plan = planNetwork(
      { management: { interface: "enp1s0", mode: "dhcp", vlan: 42, bridge: "vmbr0" }, bridges: [{ name: "vmbr0", uplinks: ["enp1s0"], datapath: "netdev" }] },
      MACHINE,
    );
    assert.equal(plan.device, "vmbr0.42");
    assert.deepEqual(plan.ovs.slice(1), [
      ["set", "Bridge", "vmbr0", "datapath_type=netdev", "external_ids:quantix=managed"],
      ["--may-exist", "add-port", "vmbr0", "enp1s0"],
      ["set", "Port", "enp1s0", "external_ids:quantix=uplink"],
      ["--may-exist", "add-port", "vmbr0", "vmbr0.42"],
      ["set", "Interface", "vmbr0.42", "type=internal"],
      ["set", "Port", "vmbr0.42", "tag=42", "external_ids:quantix=mgmt"],
    ]);
    assert.equal(plan.dhcp?.device, "vmbr0.42");
  });

  it("refuses a VLAN interface name longer than the kernel allows", () => {
    assert.throws(
      () => planNetwork({ management: { interface: "enx0123456789ab", mode: "dhcp", vlan: 100 } }, [nic("enx0123456789ab", 2)]),
      /longer than 15/,
    );
  });

  it("dhcp with dns in network.yaml keeps our resolv.conf", () => {
    const plan = planNetwork({ management: { interface: "auto", mode: "dhcp", dns: ["9.9.9.9"] } }, MACHINE);
    assert.equal(plan.dhcp?.keepResolvConf, true);
    assert.deepEqual(parseResolvConf(plan.resolvConf!), ["9.9.9.9"]);
  });

  it("udhcpc waits a bounded time for the first lease, then goes on in the background", () => {
    const args = udhcpcArgs({ device: "eth0", keepResolvConf: false, hostname: "n1" }, DEFAULT_DHCP, "/run/quantix/udhcpc.eth0.pid");
    const opt = (f: string) => args[args.indexOf(f) + 1];
    assert.ok(args.includes("-b"), "background after the wait");
    assert.ok(!args.includes("-f") && !args.includes("-n"));
    assert.ok(Number(opt("-t")) * Number(opt("-T")) <= DEFAULT_DHCP.leaseWaitSeconds + 2);
    assert.equal(opt("-s"), DEFAULT_DHCP.script);
    assert.equal(opt("-x"), "hostname:n1");
  });
});

describe("readInterfaces (fake sysfs)", () => {
  it("reads type, ifindex, the device link, wireless and carrier", async () => {
    const sys = await mkdtemp(join(tmpdir(), "qx-sys-"));
    try {
      const mk = async (name: string, files: Record<string, string>, device: boolean, wireless = false) => {
        const d = join(sys, "class/net", name);
        await mkdir(d, { recursive: true });
        for (const [f, v] of Object.entries(files)) await writeFile(join(d, f), `${v}\n`);
        if (device) await symlink("../../../virtio2", join(d, "device"));
        if (wireless) await mkdir(join(d, "wireless"));
      };
      await mk("lo", { type: "772", ifindex: "1", carrier: "1" }, false);
      await mk("eth1", { type: "1", ifindex: "3", carrier: "1" }, true);
      await mk("eth0", { type: "1", ifindex: "2" }, true); // down: reading carrier fails
      await mk("wlan0", { type: "1", ifindex: "4", carrier: "1" }, true, true);
      const list = await readInterfaces(sys);
      assert.deepEqual(
        list.map((i) => [i.name, i.physical, i.wireless, i.carrier]),
        [
          ["lo", false, false, true],
          ["eth0", true, false, null],
          ["eth1", true, false, true],
          ["wlan0", true, true, true],
        ],
      );
      assert.equal(planNetwork({ management: { interface: "auto", mode: "dhcp" } }, list).device, "eth1");
    } finally {
      await rm(sys, { recursive: true, force: true });
    }
  });
});

describe("configuration fallback and apply (recorded commands)", () => {
  let root = "";
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), "qx-net-"));
    await mkdir(join(root, "etc/quantix"), { recursive: true });
    await mkdir(configPaths(root).dir, { recursive: true });
    await copyFile(join(REPO, "overlay/etc/quantix/defaults.yaml"), join(root, "etc/quantix/defaults.yaml"));
  });

  const recorder = () => {
    const calls: { cmd: string; args: string[]; env?: Record<string, string | undefined> }[] = [];
    const runner = async (cmd: string, args: readonly string[], o?: RunOptions) => {
      calls.push({ cmd, args: [...args], env: o?.env });
      return { stdout: args.includes("-j") ? "[]" : "", stderr: "", exitCode: 0, signal: null };
    };
    return { calls, runner };
  };

  it("falls back to the last good copy, then to the defaults", async () => {
    const env = defaultNetworkEnv({ root, log: () => {} });
    assert.equal((await loadNetworkConfig(env)).source, "defaults");
    const p = configPaths(root).network;
    await writeFile(p, "management:\n  interface: eth0\n  mode: static\n  address: 10.1.1.2/24\n");
    assert.equal((await loadNetworkConfig(env)).source, "file");
    await writeFile(p, "management:\n  mode: static\n"); // address missing
    const r = await loadNetworkConfig(env);
    assert.equal(r.source, "last-good");
    assert.equal(r.config.management.address, "10.1.1.2/24");
    await rm(lastGoodPathFor(p));
    assert.equal((await loadNetworkConfig(env)).config.management.mode, "dhcp");
  });

  /** Open vSwitch as a recorder; the bridge's interface appears in `machine` once add-br ran. */
  const fakeOvs = (machine: NetInterface[], o: { down?: boolean } = {}) => {
    const txns: string[][][] = [];
    const ovs: OvsAccess = {
      ready: async () => {
        if (o.down) throw new NetworkError("Open vSwitch is not running (no /run/openvswitch/db.sock after 0 s)");
      },
      vsctl: async (ops) => {
        txns.push(ops.map((x) => [...x]));
        for (const op of ops) if (op[1] === "add-br" && !machine.some((i) => i.name === op[2])) machine.push(nic(op[2]!, 50, { physical: false }));
      },
    };
    return { txns, ovs };
  };

  it("the image defaults: the port joins vmbr0 and udhcpc runs on the bridge", async () => {
    const { calls, runner } = recorder();
    const machine = [...MACHINE];
    const { txns, ovs } = fakeOvs(machine);
    const env = defaultNetworkEnv({ root, runDir: join(root, "run/quantix"), run: runner, interfaces: async () => machine, log: () => {}, ovs });
    const shown = await applyNetwork(env);
    assert.equal(txns.length, 1, "one ovs-vsctl transaction");
    assert.deepEqual(txns[0]![2], ["--may-exist", "add-port", "vmbr0", "enp2s0"]);
    const dhcp = calls.find((c) => c.cmd === "sh")!;
    assert.deepEqual(dhcp.args.slice(3, 6), ["udhcpc", "-i", "vmbr0"]);
    const state = JSON.parse(await readFile(join(root, "run/quantix/network.json"), "utf8"));
    assert.deepEqual([state.device, state.base, state.bridge, state.fallback], ["vmbr0", "enp2s0", "vmbr0", undefined]);
    assert.equal(shown.interface, "vmbr0");

    // Management moves off the bridge: the port leaves it, the address goes back on the port.
    await writeFile(configPaths(root).network, "management:\n  interface: enp2s0\n  mode: dhcp\nbridges:\n  - name: vmbr0\n");
    await applyNetwork(env);
    assert.deepEqual(txns[1], [["--if-exists", "del-port", "vmbr0", "enp2s0"]]);
    const moved = JSON.parse(await readFile(join(root, "run/quantix/network.json"), "utf8"));
    assert.deepEqual([moved.device, moved.bridge], ["enp2s0", null]);
  });

  it("Open vSwitch down: the address goes on the port itself, and the reason is logged and recorded", async () => {
    const { calls, runner } = recorder();
    const logs: string[] = [];
    const { txns, ovs } = fakeOvs([...MACHINE], { down: true });
    const env = defaultNetworkEnv({ root, runDir: join(root, "run/quantix"), run: runner, interfaces: async () => MACHINE, log: (l) => logs.push(l), ovs });
    await applyNetwork(env);
    assert.deepEqual(calls.find((c) => c.cmd === "sh")!.args.slice(3, 6), ["udhcpc", "-i", "enp2s0"]);
    const state = JSON.parse(await readFile(join(root, "run/quantix/network.json"), "utf8"));
    assert.equal(state.device, "enp2s0");
    assert.match(state.fallback, /management bridge vmbr0 unusable: Open vSwitch is not running/);
    assert.ok(logs.some((l) => /the address goes on enp2s0 itself/.test(l)), logs.join("\n"));
    assert.deepEqual(txns, [[["--if-exists", "del-port", "vmbr0", "enp2s0"]]], "nothing of the bridge is left behind");
  });

  it("a bridge that never appears (no kernel datapath) is a fallback too, not a node without network", async () => {
    const { runner } = recorder();
    const ovs: OvsAccess = { ready: async () => {}, vsctl: async () => {} }; // accepts, but no vmbr0 interface shows up
    const env = defaultNetworkEnv({ root, runDir: join(root, "run/quantix"), run: runner, interfaces: async () => MACHINE, log: () => {}, ovs });
    assert.equal((await applyNetwork(env)).interface, "enp2s0");
    const state = JSON.parse(await readFile(join(root, "run/quantix/network.json"), "utf8"));
    assert.match(state.fallback, /made no interface vmbr0 \(is the openvswitch kernel module loaded\?\)/);
  });

  it("apply runs the plan through the runner, lo first, then starts udhcpc detached from its pipes", async () => {
    const { calls, runner } = recorder();
    await writeFile(configPaths(root).network, "management:\n  interface: auto\n  mode: dhcp\n");
    const env = defaultNetworkEnv({ root, runDir: join(root, "run/quantix"), run: runner, interfaces: async () => MACHINE, log: () => {} });
    await applyNetwork(env);
    assert.deepEqual(calls[0]!.args, ["link", "set", "lo", "up"]);
    const dhcp = calls.find((c) => c.cmd === "sh")!;
    assert.ok(dhcp, "udhcpc started");
    assert.match(dhcp.args[1]!, /<\/dev\/null >>"\$QX_UDHCPC_LOG" 2>&1/);
    assert.deepEqual(dhcp.args.slice(3, 6), ["udhcpc", "-i", "enp2s0"]);
    assert.equal(dhcp.env?.QX_KEEP_RESOLV_CONF, "0");
    const state = JSON.parse(await readFile(join(root, "run/quantix/network.json"), "utf8"));
    assert.equal(state.device, "enp2s0");
    assert.equal(state.configSource, "file");
  });
});

describe("udhcpc default.script (mocked ip)", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-udhcpc-"));
    await writeFile(join(dir, "mock"), `#!/bin/sh\necho "$*" >>"${dir}/calls"\n`);
    await chmod(join(dir, "mock"), 0o755);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const event = async (ev: string, extra: Record<string, string>) => {
    await rm(join(dir, "calls"), { force: true });
    await run("sh", [SCRIPT, ev], {
      env: { MOCK: join(dir, "mock"), QX_RESOLV_CONF: join(dir, "resolv.conf"), interface: "eth0", ip: "192.168.7.20", subnet: "255.255.255.0", router: "192.168.7.1 192.168.7.2", dns: "192.168.7.1 9.9.9.9", lease: "3600", ...extra },
    });
    return (await readFile(join(dir, "calls"), "utf8")).trim().split("\n");
  };

  it("bound: address with the lease lifetime, default route via the first router, resolv.conf from the lease", async () => {
    const calls = await event("bound", {});
    assert.ok(calls.includes("ip -4 addr replace 192.168.7.20/24 dev eth0 valid_lft 3600 preferred_lft 3600"), calls.join("\n"));
    assert.ok(calls.includes("ip -4 route replace default via 192.168.7.1 dev eth0"), calls.join("\n"));
    assert.deepEqual(parseResolvConf(await readFile(join(dir, "resolv.conf"), "utf8")), ["192.168.7.1", "9.9.9.9"]);
  });

  it("leaves resolv.conf alone when network.yaml lists DNS servers", async () => {
    await writeFile(join(dir, "resolv.conf"), "nameserver 8.8.8.8\n");
    await event("renew", { QX_KEEP_RESOLV_CONF: "1", mask: "22" });
    assert.equal(await readFile(join(dir, "resolv.conf"), "utf8"), "nameserver 8.8.8.8\n");
  });

  it("deconfig flushes the interface", async () => {
    assert.ok((await event("deconfig", {})).includes("ip -4 addr flush dev eth0 scope global"));
  });
});

describe("apply in a network namespace (integration, static only, no traffic)", () => {
  const ns = `qxtest-${process.pid}`;
  let root = "";
  before(async () => {
    root = await mkdtemp(join(tmpdir(), "qx-netns-"));
    await mkdir(join(root, "etc/quantix"), { recursive: true });
    await copyFile(join(REPO, "overlay/etc/quantix/defaults.yaml"), join(root, "etc/quantix/defaults.yaml"));
    await run("ip", ["netns", "add", ns]);
    await run("ip", ["-n", ns, "link", "add", "qxa", "type", "veth", "peer", "name", "qxb"]);
    await run("ip", ["-n", ns, "link", "set", "qxb", "up"]);
  });
  after(async () => {
    await run("ip", ["netns", "del", ns], { allowFailure: true });
    await rm(root, { recursive: true, force: true });
  });

  const nsEnv = () =>
    defaultNetworkEnv({
      root,
      runDir: join(root, "run/quantix"),
      ipPrefix: ["-n", ns],
      log: () => {},
      interfaces: async () => {
        const links = JSON.parse((await run("ip", ["-n", ns, "-j", "link", "show"])).stdout) as { ifname: string; ifindex: number }[];
        return links.map((l) => nic(l.ifname, l.ifindex, { physical: false }));
      },
    });

  it("configures address, route and DNS; re-applying gives the same state; down removes it", async () => {
    await mkdir(configPaths(root).dir, { recursive: true });
    await writeFile(configPaths(root).network, "management:\n  interface: qxa\n  mode: static\n  address: 10.99.0.2/24\n  gateway: 10.99.0.1\n  dns: [10.99.0.53]\n");
    const env = nsEnv();
    const first = await applyNetwork(env);
    assert.deepEqual(first, { interface: "qxa", base: "qxa", vlan: null, mode: "static", address: "10.99.0.2/24", gateway: "10.99.0.1", dns: ["10.99.0.53"], state: first.state });
    const second = await applyNetwork(env);
    assert.deepEqual(second, first);
    const addrs = JSON.parse((await run("ip", ["-n", ns, "-j", "-4", "addr", "show", "dev", "qxa"])).stdout)[0].addr_info;
    assert.equal(addrs.length, 1, "flushed and applied once, not stacked");
    const lo = JSON.parse((await run("ip", ["-n", ns, "-j", "link", "show", "lo"])).stdout)[0];
    assert.ok(lo.flags.includes("UP"), "lo is up");
    assert.equal(await downNetwork(env), "qxa");
    assert.equal((await showNetwork(env)).address, null);
  });

  it("moves to a VLAN on the same port, then back, cleaning up after itself", async (t) => {
    // The build host's kernel may lack 802.1Q (no 8021q module): say so instead of failing on it.
    const probe = await run("ip", ["-n", ns, "link", "add", "link", "qxb", "name", "qxb.7", "type", "vlan", "id", "7"], { allowFailure: true });
    if (probe.exitCode !== 0 && /Unknown device type/.test(probe.stderr)) {
      await writeFile(configPaths(root).network, "management:\n  interface: qxa\n  mode: static\n  address: 10.98.0.2/24\n  vlan: 42\n");
      await assert.rejects(applyNetwork(nsEnv()), (e: unknown) => e instanceof NetworkError && /802\.1Q/.test(e.message));
      t.skip("this kernel has no 802.1Q support (8021q); only the error path was checked");
      return;
    }
    await writeFile(configPaths(root).network, "management:\n  interface: qxa\n  mode: static\n  address: 10.98.0.2/24\n  gateway: 10.98.0.1\n  vlan: 42\n");
    const env = nsEnv();
    const shown = await applyNetwork(env);
    assert.equal(shown.interface, "qxa.42");
    assert.equal(shown.address, "10.98.0.2/24");
    assert.equal(shown.gateway, "10.98.0.1");
    const vlan = JSON.parse((await run("ip", ["-n", ns, "-j", "-d", "link", "show", "qxa.42"])).stdout)[0];
    assert.equal(vlan.linkinfo.info_data.id, 42);
    await applyNetwork(env); // again: the stale VLAN interface is replaced
    await writeFile(configPaths(root).network, "management:\n  interface: qxa\n  mode: static\n  address: 10.99.0.2/24\n");
    assert.equal((await applyNetwork(env)).interface, "qxa");
    const links = JSON.parse((await run("ip", ["-n", ns, "-j", "link", "show"])).stdout) as { ifname: string }[];
    assert.ok(!links.some((l) => l.ifname === "qxa.42"), "the VLAN interface of the previous apply is gone");
  });
});
