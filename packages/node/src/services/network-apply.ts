/**
 * @module services/network-apply
 * Brings up the management network from `/quantix/network.yaml` (falling back to its
 * last good copy, then to the image defaults): `lo` first, then the management
 * interface (`auto` = the first physical Ethernet port, preferring one with carrier),
 * an optional VLAN on it, and a static address or BusyBox `udhcpc`.
 *
 * With `management.bridge` (the image default: `vmbr0`), the port joins that Open
 * vSwitch bridge and the address goes on the bridge, or on its internal port
 * `<bridge>.<vlan>` tagged with the VLAN, so VMs on the bridge share the port with
 * management (ESXi's vSwitch0, Proxmox's vmbr0). The bridge takes the port's MAC, so
 * a DHCP server sees the same client. When Open vSwitch does not answer or cannot
 * make the bridge, the address goes on the port itself and the reason is logged and
 * recorded (`fallback` in network.json): the node stays reachable.
 *
 * The `ip` commands are a pure function of (config, interfaces), {@link planNetwork},
 * so tests check them without touching a network; {@link applyNetwork} runs a plan
 * through core's `run`. Re-applying flushes and configures again (idempotent).
 * What was applied is recorded in `/run/quantix/network.json` for `show` and `down`.
 *
 * @example
 * ```ts
 * const plan = planNetwork({ management: { interface: "auto", mode: "dhcp" } }, await readInterfaces());
 * plan.commands; // [["link","set","lo","up"], ["link","set","eth0","up"], ...]
 * ```
 */
import { existsSync, promises as fs } from "node:fs";
import { dirname, join } from "node:path";
import {
  ExecError,
  loadDefaults,
  type NetworkConfig,
  networkConfigFile,
  nodeConfigFile,
  QxError,
  type RunOptions,
  type RunResult,
  run as coreRun,
  writeFileAtomic,
} from "@quantix/core";

/** The management network cannot be configured as asked. */
export class NetworkError extends QxError {
  override name = "NetworkError";
  constructor(
    message: string,
    readonly iface?: string,
    options?: { cause?: unknown; hint?: string },
  ) {
    super("NETWORK", message, options);
  }
}

/** A network interface as sysfs describes it. */
export interface NetInterface {
  readonly name: string;
  readonly ifindex: number;
  /** ARP hardware type: 1 = Ethernet, 772 = loopback. */
  readonly type: number;
  /** Has a `device` link: backed by hardware (virtio, PCI, USB), not a bridge/veth/tun/bond. */
  readonly physical: boolean;
  readonly wireless: boolean;
  /** null when unknown (the link is down). */
  readonly carrier: boolean | null;
  /** The hardware address, when sysfs gives one. */
  readonly mac?: string | null;
}

/** Linux limit on interface names (IFNAMSIZ - 1). */
const IFNAME_MAX = 15;

/** Reads every interface in `<sysRoot>/class/net`. */
export async function readInterfaces(sysRoot = "/sys"): Promise<NetInterface[]> {
  const dir = join(sysRoot, "class/net");
  const names = await fs.readdir(dir);
  const read = (n: string, f: string) => fs.readFile(join(dir, n, f), "utf8").then((s) => s.trim(), () => null);
  const exists = (n: string, f: string) => fs.lstat(join(dir, n, f)).then(() => true, () => false);
  const out: NetInterface[] = [];
  for (const name of names) {
    const carrier = await read(name, "carrier");
    out.push({
      name,
      ifindex: Number((await read(name, "ifindex")) ?? Number.MAX_SAFE_INTEGER),
      type: Number((await read(name, "type")) ?? -1),
      physical: await exists(name, "device"),
      wireless: (await exists(name, "wireless")) || (await exists(name, "phy80211")),
      carrier: carrier === null ? null : carrier === "1",
      mac: await read(name, "address"),
    });
  }
  return out.sort((a, b) => a.ifindex - b.ifindex || a.name.localeCompare(b.name));
}

/** A physical wired Ethernet port (what `interface: auto` may pick). */
export function isPhysicalEthernet(i: NetInterface): boolean {
  return i.name !== "lo" && i.type === 1 && i.physical && !i.wireless;
}

/** The interface the management network uses before any VLAN: the named one, or `auto`'s pick. */
export function selectInterface(wanted: string, interfaces: readonly NetInterface[]): string {
  if (wanted !== "auto") {
    if (!interfaces.some((i) => i.name === wanted)) {
      throw new NetworkError(`interface ${wanted} (from network.yaml) does not exist; present: ${interfaces.map((i) => i.name).join(", ") || "none"}`, wanted, {
        hint: "set management.interface to one of them, or to auto",
      });
    }
    return wanted;
  }
  const candidates = [...interfaces].filter(isPhysicalEthernet).sort((a, b) => a.ifindex - b.ifindex);
  const pick = candidates.find((i) => i.carrier === true) ?? candidates[0];
  if (!pick) {
    throw new NetworkError(`no physical Ethernet interface found (present: ${interfaces.map((i) => i.name).join(", ") || "none"})`, undefined, {
      hint: "check the NIC driver is loaded, or name the interface in network.yaml",
    });
  }
  return pick.name;
}

export interface DhcpPlan {
  readonly device: string;
  /** network.yaml lists DNS servers: the lease's must not replace them. */
  readonly keepResolvConf: boolean;
  /** Sent to the DHCP server (option 12), when the node has a name. */
  readonly hostname: string | null;
}

export interface NetworkPlan {
  /** The interface under any VLAN. */
  readonly base: string;
  /** The interface that carries the address: `base`, `base.N`, the bridge, or `bridge.N`. */
  readonly device: string;
  /** The Open vSwitch bridge the port joins (management.bridge), or null. */
  readonly bridge: string | null;
  /** One ovs-vsctl transaction (operations joined by `--`) run before the `ip` commands; empty without a bridge. */
  readonly ovs: readonly (readonly string[])[];
  readonly mode: "dhcp" | "static";
  readonly vlan: number | null;
  readonly address: string | null;
  readonly gateway: string | null;
  /** Arguments of `ip`, in order. */
  readonly commands: readonly (readonly string[])[];
  /** Content for /etc/resolv.conf, or null to leave it alone (or to DHCP). */
  readonly resolvConf: string | null;
  readonly dhcp: DhcpPlan | null;
}

/** resolv.conf naming `dns`. */
export function resolvConfFor(dns: readonly string[], source: string): string {
  return `# Written by qx-netconf from ${source}.\n${dns.map((d) => `nameserver ${d}\n`).join("")}`;
}

/**
 * The `ip` commands that configure the management network; pure.
 * `interfaces` is the system's current list (it decides `auto` and whether a VLAN
 * interface must be deleted first).
 */
export function planNetwork(config: NetworkConfig, interfaces: readonly NetInterface[], options: { hostname?: string | null } = {}): NetworkPlan {
  const m = config.management;
  const base = selectInterface(m.interface, interfaces);
  const vlan = m.vlan ?? null;
  const bridge = m.bridge ?? null;
  const device = `${bridge ?? base}${vlan === null ? "" : `.${vlan}`}`;
  if (device.length > IFNAME_MAX) {
    throw new NetworkError(`VLAN interface name ${device} is longer than ${IFNAME_MAX} characters`, device);
  }
  const commands: string[][] = [
    ["link", "set", "lo", "up"],
    ["link", "set", base, "up"],
  ];
  const ovs: string[][] = [];
  if (bridge !== null) {
    const declared = config.bridges?.find((b) => b.name === bridge);
    const mac = interfaces.find((i) => i.name === base)?.mac ?? null;
    const role = declared?.uplinks.includes(base) ? "uplink" : "mgmt";
    const set = ["set", "Bridge", bridge, `datapath_type=${declared?.datapath ?? "system"}`, "external_ids:quantix=managed"];
    if (mac) set.push(`other_config:hwaddr="${mac}"`);
    ovs.push(["--may-exist", "add-br", bridge], set, ["--may-exist", "add-port", bridge, base], ["set", "Port", base, `external_ids:quantix=${role}`]);
    if (vlan !== null) {
      ovs.push(["--may-exist", "add-port", bridge, device], ["set", "Interface", device, "type=internal", ...(mac ? [`mac="${mac}"`] : [])], ["set", "Port", device, `tag=${vlan}`, "external_ids:quantix=mgmt"]);
    }
    // The address moves from the port to the bridge: none may stay on the port.
    commands.push(["-4", "addr", "flush", "dev", base]);
  } else if (vlan !== null) {
    if (interfaces.some((i) => i.name === device)) commands.push(["link", "del", device]);
    commands.push(["link", "add", "link", base, "name", device, "type", "vlan", "id", String(vlan)]);
  }
  commands.push(["-4", "addr", "flush", "dev", device], ["-4", "route", "flush", "dev", device]);
  if (m.mode === "static") {
    if (!m.address) throw new NetworkError("mode static needs management.address", device);
    commands.push(["addr", "add", m.address, "dev", device]);
  }
  commands.push(["link", "set", device, "up"]);
  if (m.mode === "static" && m.gateway) commands.push(["-4", "route", "replace", "default", "via", m.gateway, "dev", device]);
  const dns = m.dns ?? [];
  return {
    base,
    device,
    bridge,
    ovs,
    mode: m.mode,
    vlan,
    address: m.mode === "static" ? (m.address ?? null) : null,
    gateway: m.mode === "static" ? (m.gateway ?? null) : null,
    commands,
    resolvConf: dns.length > 0 ? resolvConfFor(dns, "network.yaml") : null,
    dhcp: m.mode === "dhcp" ? { device, keepResolvConf: dns.length > 0, hostname: options.hostname ?? null } : null,
  };
}

/** Files and timing of the DHCP client. */
export interface DhcpSettings {
  /** udhcpc's dispatcher script (shipped in the overlay). */
  readonly script: string;
  /** Seconds to wait for the first lease before udhcpc goes on in the background. */
  readonly leaseWaitSeconds: number;
}

export const DEFAULT_DHCP: DhcpSettings = { script: "/usr/share/udhcpc/default.script", leaseWaitSeconds: 15 };

/** udhcpc's arguments; pure. `-b` backgrounds it after the bounded wait, `-R` releases the lease on stop. */
export function udhcpcArgs(dhcp: DhcpPlan, settings: DhcpSettings, pidFile: string): string[] {
  const interval = 3;
  const tries = Math.max(1, Math.ceil(settings.leaseWaitSeconds / interval));
  const args = ["-i", dhcp.device, "-s", settings.script, "-p", pidFile, "-b", "-R", "-S", "-t", String(tries), "-T", String(interval), "-A", "10"];
  if (dhcp.hostname) args.push("-x", `hostname:${dhcp.hostname}`);
  return args;
}

export type Runner = (command: string, args: readonly string[], options?: RunOptions) => Promise<RunResult>;

export interface NetworkEnv {
  /** Root of the system ("/"): /quantix, /etc/resolv.conf, /etc/quantix/defaults.yaml. */
  readonly root: string;
  readonly sysRoot: string;
  /** Where state, pid and log files go (`/run/quantix`). */
  readonly runDir: string;
  readonly run: Runner;
  /** Arguments put before every `ip` command (`["-n", "ns"]` in tests). */
  readonly ipPrefix: readonly string[];
  readonly dhcp: DhcpSettings;
  /** Bounded wait for carrier when `auto` has several ports and none has a link yet. */
  readonly carrierWaitMs: number;
  readonly log: (line: string) => void;
  /** Supplies the interface list (default: sysfs); tests inside a namespace pass their own. */
  readonly interfaces?: () => Promise<NetInterface[]>;
  /** Open vSwitch, for a management bridge. */
  readonly ovs: OvsAccess;
}

/** How network-apply reaches Open vSwitch. */
export interface OvsAccess {
  /** Resolves once ovsdb-server and ovs-vswitchd run (bounded), else rejects saying what is missing. */
  ready(): Promise<void>;
  /** Runs one ovs-vsctl transaction: the operations joined by `--`. */
  vsctl(ops: readonly (readonly string[])[], options?: { allowFailure?: boolean }): Promise<void>;
}

/** Open vSwitch at its usual socket, waited for at most `waitMs` (it starts beside the boot jobs). */
export function defaultOvsAccess(o: { run?: Runner; socket?: string; waitMs?: number } = {}): OvsAccess {
  const run = o.run ?? coreRun;
  const socket = o.socket ?? "/run/openvswitch/db.sock";
  return {
    ready: () => waitForOvs(socket, o.waitMs ?? 60_000),
    async vsctl(ops, options = {}) {
      const args = ops.flatMap((op, i) => (i === 0 ? [...op] : ["--", ...op]));
      await run("ovs-vsctl", ["--timeout=10", `--db=unix:${socket}`, ...args], { timeoutMs: 20_000, ...(options.allowFailure ? { allowFailure: true } : {}) });
    },
  };
}

/** Waits until `socket` and ovs-vswitchd.pid beside it exist (ovs-vswitchd writes its pid once the database is set up). */
export async function waitForOvs(socket: string, waitMs: number): Promise<void> {
  const vswitchd = join(dirname(socket), "ovs-vswitchd.pid");
  const deadline = Date.now() + waitMs;
  for (;;) {
    const missing = [socket, vswitchd].find((f) => !existsSync(f));
    if (!missing) return;
    if (Date.now() > deadline) {
      throw new NetworkError(`Open vSwitch is not running (no ${missing} after ${Math.round(waitMs / 1000)} s)`, undefined, {
        hint: "see /var/log/openvswitch and rc-service openvswitch-switch status",
      });
    }
    await sleep(250);
  }
}

export function defaultNetworkEnv(over: Partial<NetworkEnv> = {}): NetworkEnv {
  return {
    root: "/",
    sysRoot: "/sys",
    runDir: "/run/quantix",
    run: coreRun,
    ipPrefix: [],
    dhcp: DEFAULT_DHCP,
    carrierWaitMs: 3000,
    log: (l) => process.stderr.write(`qx-netconf: ${l}\n`),
    ovs: defaultOvsAccess({ run: over.run ?? coreRun }),
    ...over,
  };
}

/** What `apply` did, as recorded in `<runDir>/network.json`. */
export interface AppliedState {
  readonly base: string;
  readonly device: string;
  readonly mode: "dhcp" | "static";
  readonly vlan: number | null;
  /** The Open vSwitch bridge the port joined, or null. */
  readonly bridge?: string | null;
  /** Why management.bridge was not used (the address went on the port itself). */
  readonly fallback?: string;
  readonly configSource: "file" | "last-good" | "defaults";
  readonly appliedAt: string;
}

const statePath = (env: NetworkEnv) => join(env.runDir, "network.json");
const pidPath = (env: NetworkEnv, device: string) => join(env.runDir, `udhcpc.${device}.pid`);

/** network.yaml, else its last good copy, else the defaults' network section. */
export async function loadNetworkConfig(env: NetworkEnv): Promise<{ config: NetworkConfig; source: AppliedState["configSource"] }> {
  const r = await networkConfigFile(env.root).loadWithFallback();
  if (r.error) env.log(`network.yaml unusable: ${r.error.message}; using ${r.value ? "its last good copy" : "the image defaults"}`);
  if (r.value) return { config: r.value, source: r.source === "file" ? "file" : "last-good" };
  return { config: (await loadDefaults(env.root)).network, source: "defaults" };
}

async function ip(env: NetworkEnv, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return env.run("ip", [...env.ipPrefix, ...args], { timeoutMs: 10_000, ...options });
}

async function readState(env: NetworkEnv): Promise<AppliedState | null> {
  const text = await fs.readFile(statePath(env), "utf8").catch(() => null);
  if (!text) return null;
  try {
    return JSON.parse(text) as AppliedState;
  } catch {
    return null;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Stops the udhcpc this tool started for `device` (pid file, checked against /proc). */
export async function stopDhcp(env: NetworkEnv, device: string): Promise<boolean> {
  const pidFile = pidPath(env, device);
  const pid = Number((await fs.readFile(pidFile, "utf8").catch(() => "")).trim());
  if (!Number.isInteger(pid) || pid <= 1) return false;
  const cmdline = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  const argv = cmdline.split("\0");
  if (!argv.some((a) => a.endsWith("udhcpc")) || !argv.includes(device)) {
    await fs.rm(pidFile, { force: true });
    return false;
  }
  process.kill(pid, "SIGTERM");
  for (let i = 0; i < 30 && (await fs.access(`/proc/${pid}`).then(() => true, () => false)); i++) await sleep(100);
  await fs.rm(pidFile, { force: true });
  return true;
}

/** Waits (bounded) for carrier on the auto candidates when several exist and none has it yet. */
async function interfacesForAuto(env: NetworkEnv, list: NetInterface[]): Promise<NetInterface[]> {
  const candidates = list.filter(isPhysicalEthernet);
  if (candidates.length < 2 || candidates.some((c) => c.carrier === true)) return list;
  for (const c of candidates) await ip(env, ["link", "set", c.name, "up"]);
  const deadline = Date.now() + env.carrierWaitMs;
  let now = list;
  while (Date.now() < deadline) {
    await sleep(100);
    now = await (env.interfaces ?? (() => readInterfaces(env.sysRoot)))();
    if (now.filter(isPhysicalEthernet).some((c) => c.carrier === true)) break;
  }
  return now;
}

/** Applies the management network; returns what `show` would print. */
export async function applyNetwork(env: NetworkEnv): Promise<ShownNetwork> {
  const { config, source } = await loadNetworkConfig(env);
  const listInterfaces = env.interfaces ?? (() => readInterfaces(env.sysRoot));
  let interfaces = await listInterfaces();
  if (config.management.interface === "auto") interfaces = await interfacesForAuto(env, interfaces);
  const hostname = await nodeConfigFile(env.root)
    .loadWithFallback()
    .then((r) => r.value?.hostname ?? null, () => null);
  let plan = planNetwork(config, interfaces, { hostname });

  const previous = await readState(env);
  if (previous && previous.device !== plan.device) await teardown(env, previous);
  if (previous?.bridge) {
    // What the previous apply added to Open vSwitch and this one does not want: the port
    // leaves the bridge (VMs on it lose that uplink), a management VLAN port goes.
    const ops: string[][] = [];
    if (previous.bridge !== plan.bridge || previous.base !== plan.base) ops.push(["--if-exists", "del-port", previous.bridge, previous.base]);
    if (previous.vlan !== null && previous.device !== plan.device) ops.push(["--if-exists", "del-port", previous.bridge, previous.device]);
    if (ops.length > 0) await env.ovs.vsctl(ops, { allowFailure: true });
  }
  let fallback: string | undefined;
  if (plan.bridge !== null) {
    try {
      await env.ovs.ready();
      await env.ovs.vsctl(plan.ovs);
      const now = await listInterfaces();
      if (!now.some((i) => i.name === plan.device)) throw new NetworkError(`Open vSwitch made no interface ${plan.device} (is the openvswitch kernel module loaded?)`, plan.device);
    } catch (e) {
      fallback = `management bridge ${plan.bridge} unusable: ${e instanceof Error ? e.message : String(e)}`;
      env.log(`${fallback}; the address goes on ${plan.base} itself`);
      await env.ovs.vsctl([["--if-exists", "del-port", plan.bridge, plan.base]], { allowFailure: true }).catch(() => undefined);
      const { bridge: _, ...management } = config.management;
      plan = planNetwork({ ...config, management }, interfaces, { hostname });
    }
  }
  await stopDhcp(env, plan.device);
  await fs.mkdir(env.runDir, { recursive: true });

  for (const cmd of plan.commands) {
    try {
      await ip(env, cmd);
    } catch (e) {
      if (e instanceof ExecError && cmd.includes("vlan") && /Unknown device type/.test(e.stderr)) {
        throw new NetworkError(`cannot create VLAN interface ${plan.device}: the kernel has no 802.1Q support`, plan.device, { cause: e, hint: "load the 8021q module" });
      }
      throw e;
    }
  }
  if (plan.resolvConf !== null) await writeFileAtomic(join(env.root, "etc/resolv.conf"), plan.resolvConf);

  const state: AppliedState = {
    base: plan.base,
    device: plan.device,
    mode: plan.mode,
    vlan: plan.vlan,
    bridge: plan.bridge,
    ...(fallback ? { fallback } : {}),
    configSource: source,
    appliedAt: new Date().toISOString(),
  };
  await writeFileAtomic(statePath(env), `${JSON.stringify(state, null, 2)}\n`);

  if (plan.dhcp) {
    const args = udhcpcArgs(plan.dhcp, env.dhcp, pidPath(env, plan.device));
    // udhcpc forks into the background with its stdio inherited: give it /dev/null and a log
    // file instead of run()'s pipes, which would otherwise stay open after the parent exits.
    await env.run("sh", ["-c", 'exec "$@" </dev/null >>"$QX_UDHCPC_LOG" 2>&1', "udhcpc", "udhcpc", ...args], {
      env: {
        QX_UDHCPC_LOG: join(env.runDir, `udhcpc.${plan.device}.log`),
        QX_KEEP_RESOLV_CONF: plan.dhcp.keepResolvConf ? "1" : "0",
        QX_RESOLV_CONF: join(env.root, "etc/resolv.conf"),
      },
      timeoutMs: (env.dhcp.leaseWaitSeconds + 10) * 1000,
    });
  }
  const shown = await showNetwork(env);
  env.log(
    `${shown.interface ?? plan.device}: ${plan.mode}${plan.vlan !== null ? ` (VLAN ${plan.vlan} on ${plan.base})` : ""}${plan.bridge ? ` (port ${plan.base} on bridge ${plan.bridge})` : ""}, ` +
      `address ${shown.address ?? (plan.mode === "dhcp" ? "none yet (udhcpc goes on in the background)" : "none")}` +
      `${shown.gateway ? `, gateway ${shown.gateway}` : ""} [config: ${source}]`,
  );
  return shown;
}

/** Undoes what `apply` did to `state`'s device: stops DHCP, flushes, sets it down, deletes a VLAN. */
async function teardown(env: NetworkEnv, state: AppliedState): Promise<void> {
  await stopDhcp(env, state.device);
  const opt = { allowFailure: true };
  await ip(env, ["-4", "addr", "flush", "dev", state.device], opt);
  await ip(env, ["link", "set", state.device, "down"], opt);
  if (state.vlan !== null && !state.bridge) await ip(env, ["link", "del", state.device], opt);
}

/** Brings the applied management interface down (OpenRC stop). */
export async function downNetwork(env: NetworkEnv): Promise<string | null> {
  const state = await readState(env);
  if (!state) return null;
  await teardown(env, state);
  await fs.rm(statePath(env), { force: true });
  return state.device;
}

/** The management network as the kernel has it now (`qx-netconf show --json`). */
export interface ShownNetwork {
  readonly interface: string | null;
  readonly base: string | null;
  readonly vlan: number | null;
  readonly mode: "dhcp" | "static" | null;
  /** CIDR, e.g. 192.168.1.100/24. */
  readonly address: string | null;
  readonly gateway: string | null;
  readonly dns: string[];
  /** Kernel operational state (UP, DOWN, LOWERLAYERDOWN, ...). */
  readonly state: string | null;
}

interface IpAddrJson {
  ifname: string;
  operstate?: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string; dynamic?: boolean }[];
}
interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** nameserver lines of a resolv.conf. */
export function parseResolvConf(text: string): string[] {
  return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
}

/** Reads back the applied interface (from network.json, else the default route's) with `ip -j`. */
export async function showNetwork(env: NetworkEnv): Promise<ShownNetwork> {
  const state = await readState(env);
  const routes = JSON.parse((await ip(env, ["-j", "-4", "route", "show", "default"])).stdout || "[]") as IpRouteJson[];
  const device = state?.device ?? routes[0]?.dev ?? null;
  const dns = parseResolvConf(await fs.readFile(join(env.root, "etc/resolv.conf"), "utf8").catch(() => ""));
  if (!device) return { interface: null, base: null, vlan: null, mode: null, address: null, gateway: null, dns, state: null };
  let link: IpAddrJson | undefined;
  try {
    link = (JSON.parse((await ip(env, ["-j", "addr", "show", "dev", device])).stdout || "[]") as IpAddrJson[])[0];
  } catch (e) {
    if (!(e instanceof ExecError)) throw e;
  }
  const inet = link?.addr_info?.find((a) => a.family === "inet" && (a.scope ?? "global") === "global");
  return {
    interface: device,
    base: state?.base ?? device,
    vlan: state?.vlan ?? null,
    mode: state?.mode ?? (inet ? (inet.dynamic ? "dhcp" : "static") : null),
    address: inet ? `${inet.local}/${inet.prefixlen}` : null,
    gateway: routes.find((r) => r.dev === device)?.gateway ?? null,
    dns,
    state: link?.operstate ?? null,
  };
}
