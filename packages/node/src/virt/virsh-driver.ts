/**
 * @module virt/virsh-driver
 * The {@link Hypervisor} over `virsh` and domain XML.
 *
 * Why virsh and not libvirt's RPC protocol: the RPC protocol is XDR over a unix
 * socket with a procedure table of several hundred calls, keepalives and event
 * streams; speaking it from Node means either a native addon (a compiler toolchain
 * and a binary per libvirt version in a 100 MiB image) or re-implementing XDR
 * marshalling by hand. `virsh` is already in the image (libvirt-clients), is the
 * interface libvirt keeps stable, and reports errors in words we can map. Its cost
 * is one process per call (about 10-20 ms); this module keeps calls few by running
 * several virsh commands in one process (a create is one process), and read-only
 * queries go through one long-lived virsh shell (virt/virsh-session). A list asks for
 * the states of all domains in one round trip and reads XML only for domains whose XML
 * is not cached for that state (virt/domain-cache); libvirt's domain events, watched
 * by one `virsh event` process (virt/virsh-events), and every change made here drop a
 * domain's entry, so listing N unchanged domains costs two round trips and no `dumpxml`.
 *
 * @example
 * ```ts
 * const hv = virshDriver({ uri: "qemu:///system" });
 * await hv.define(xml); await hv.start("web-1");
 * ```
 */
import { promises as fs, constants as fsConstants } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecError, run as coreRun } from "@quantix/core";
import type { Runner } from "../context.ts";
import { VirtCommandError, VirtExistsError, VirtNotFoundError, VirtStateError, VirtUnavailableError } from "./errors.ts";
import type { DomainLifecycle, DomainRecord, DomainStats, Hypervisor } from "./hypervisor.ts";
import type { VmState } from "./spec.ts";
import { DomainCache } from "./domain-cache.ts";
import { VirshEvents } from "./virsh-events.ts";

/** How soon the lifecycle watcher is started again after it died (libvirtd restarted). */
const WATCH_RETRY_MS = 5000;
import { VirshSession } from "./virsh-session.ts";

export interface VirshOptions {
  /** libvirt URI (default qemu:///system). */
  readonly uri?: string;
  /** `auto` (KVM when /dev/kvm opens), `kvm`, or `qemu` (TCG; also for hosts whose KVM cannot run guests). */
  readonly accel?: "auto" | "kvm" | "qemu";
  readonly runner?: Runner;
  /** Environment for virsh (tests point LIBVIRT_DEFAULT_URI elsewhere). */
  readonly env?: Record<string, string>;
  readonly timeoutMs?: number;
}

/** Domains per virsh process when listing (keeps the argument short). */
const BATCH = 100;
/** Uncached domains from which a list splits its `dumpxml`s between the shell and a one-shot virsh. */
const SPLIT_AT = 64;

const STATES: Record<string, VmState> = {
  running: "running",
  idle: "running",
  blocked: "running",
  paused: "paused",
  "in shutdown": "shutting-down",
  "shut off": "shutoff",
  crashed: "crashed",
  pmsuspended: "suspended",
};

/** A virsh state word ("shut off") as a {@link VmState}. */
export function parseState(s: string): VmState {
  return STATES[s.trim().toLowerCase()] ?? "unknown";
}

/** Quotes an argument for virsh's own command-line parser (batched commands). */
function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The libvirt message of a failed virsh call: its last `error:` line. */
function libvirtMessage(e: ExecError): string {
  const lines = e.stderr.split("\n").map((l) => l.replace(/^error:\s*/, "").trim()).filter(Boolean);
  return lines[lines.length - 1] ?? e.message;
}

/** Maps a failed virsh call to the error class of virt/errors. */
export function mapVirshError(e: unknown, name?: string): Error {
  if (!(e instanceof ExecError)) return e instanceof Error ? e : new Error(String(e));
  const msg = libvirtMessage(e);
  if (/already exists with uuid/i.test(e.stderr)) return new VirtExistsError("vm", name ?? "?");
  if (e.exitCode === 127) return new VirtUnavailableError("virsh is not installed (package libvirt-clients)", { cause: e });
  if (e.signal) return new VirtUnavailableError(`libvirtd did not answer in time (${msg}); check rc-service libvirtd status`, { cause: e });
  if (/failed to connect to the hypervisor|Failed to connect socket|no connection driver available|Cannot recv data/i.test(e.stderr)) {
    return new VirtUnavailableError(`libvirtd is not reachable: ${msg}. Start it: rc-service libvirtd start`, { cause: e });
  }
  if (/Domain not found|no domain with matching|failed to get domain/i.test(e.stderr)) return new VirtNotFoundError("vm", name ?? "?");
  if (/Requested operation is not valid|domain is not running|domain is already running|is already active/i.test(e.stderr)) {
    return new VirtStateError(`${name ? `${name}: ` : ""}${msg}`, { cause: e });
  }
  return new VirtCommandError(`libvirt: ${msg}`, { cause: e });
}

/** Parses `virsh -q list --all`: id, name, state per line. */
export function parseList(stdout: string): { name: string; state: VmState }[] {
  const out: { name: string; state: VmState }[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^\s*(\S+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (m?.[2] && m[3]) out.push({ name: m[2], state: parseState(m[3]) });
  }
  return out;
}

/** libvirt's virDomainState numbers, as `domstats --state` prints them. */
const STATE_CODES: Record<string, VmState> = {
  "1": "running",
  "2": "running",
  "3": "paused",
  "4": "shutting-down",
  "5": "shutoff",
  "6": "crashed",
  "7": "suspended",
};

/** Parses `virsh domstats --state`: a `Domain: 'name'` line, then `state.state=N`. */
export function parseDomstats(stdout: string): { name: string; state: VmState }[] {
  const out: { name: string; state: VmState }[] = [];
  let cur: { name: string; state: VmState } | undefined;
  for (const line of stdout.split("\n")) {
    const d = /^Domain: '(.*)'\s*$/.exec(line);
    if (d) {
      cur = { name: d[1] ?? "", state: "unknown" };
      out.push(cur);
      continue;
    }
    const st = /^\s*state\.state=(\d+)\s*$/.exec(line);
    if (st && cur) cur.state = STATE_CODES[st[1] ?? ""] ?? "unknown";
  }
  return out;
}

/** Parses `virsh domstats --cpu-total --balloon --block --interface`: per domain, the counters summed over its disks and NICs. */
export function parseDomainStats(stdout: string): DomainStats[] {
  type Mutable = { -readonly [K in keyof DomainStats]: DomainStats[K] };
  const out: Mutable[] = [];
  let cur: Mutable | undefined;
  for (const line of stdout.split("\n")) {
    const d = /^Domain: '(.*)'\s*$/.exec(line);
    if (d) {
      cur = { name: d[1] ?? "", cpuTimeNs: 0, memoryBytes: 0, memoryRssBytes: null, diskReadBytes: 0, diskWriteBytes: 0, netRxBytes: 0, netTxBytes: 0 };
      out.push(cur);
      continue;
    }
    const kv = /^\s*([\w.]+)=(\d+)\s*$/.exec(line);
    if (!kv || !cur) continue;
    const key = kv[1] ?? "";
    const v = Number(kv[2]);
    if (key === "cpu.time") cur.cpuTimeNs = v;
    else if (key === "balloon.current") cur.memoryBytes = v * 1024;
    else if (key === "balloon.rss") cur.memoryRssBytes = v * 1024;
    else if (/^block\.\d+\.rd\.bytes$/.test(key)) cur.diskReadBytes += v;
    else if (/^block\.\d+\.wr\.bytes$/.test(key)) cur.diskWriteBytes += v;
    else if (/^net\.\d+\.rx\.bytes$/.test(key)) cur.netRxBytes += v;
    else if (/^net\.\d+\.tx\.bytes$/.test(key)) cur.netTxBytes += v;
  }
  return out;
}

const DOMSTATS = "domstats --cpu-total --balloon --block --interface --list-active --nowait";

/** Splits concatenated `dumpxml` output into documents. */
export function splitDomains(stdout: string): string[] {
  const docs: string[] = [];
  const re = /<domain[\s>][\s\S]*?<\/domain>/g;
  for (const m of stdout.matchAll(re)) docs.push(m[0]);
  return docs;
}

/** The `<name>` of a domain XML document, without parsing all of it. */
function nameOf(xml: string): string {
  const m = /<name>([^<]*)<\/name>/.exec(xml);
  return (m?.[1] ?? "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&apos;/g, "'").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
}

/** The Hypervisor over virsh (see the module comment). */
export function virshDriver(o: VirshOptions = {}): Hypervisor {
  const uri = o.uri ?? "qemu:///system";
  const runner = o.runner ?? coreRun;
  const timeoutMs = o.timeoutMs ?? 60_000;
  const virsh = async (args: string[], name?: string): Promise<string> => {
    try {
      const r = await runner("virsh", ["-q", "-c", uri, ...args], { timeoutMs, ...(o.env ? { env: o.env } : {}) });
      return r.stdout;
    } catch (e) {
      throw mapVirshError(e, name);
    }
  };

  const session = new VirshSession(uri, { ...(o.env ? { env: o.env } : {}), timeoutMs });

  // Domain XML between lists, dropped on libvirt's events and on changes made here.
  const cache = new DomainCache();
  const lifecycleListeners = new Set<(e: DomainLifecycle) => void>();
  const events = new VirshEvents(uri, {
    ...(o.env ? { env: o.env } : {}),
    onChange: (n) => (n === null ? cache.clear() : cache.invalidate(n)),
    onLifecycle: (e) => {
      for (const l of lifecycleListeners) l(e);
    },
  });
  // While anyone listens for lifecycle changes the watcher is kept running: started
  // again within WATCH_RETRY_MS after libvirtd went away and came back.
  let rewatch: NodeJS.Timeout | undefined;
  /** Runs a change to `name` and then forgets its cached XML (also when the change failed). */
  const changing = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } finally {
      cache.invalidate(name);
    }
  };

  /**
   * Through the long-lived shell when it gives a complete answer: states of all domains
   * in one call (`domstats --state`, one round trip to libvirtd), then `dumpxml` only for
   * domains whose XML is not cached for their current state (all of them while the event
   * watcher is not yet registered). Anything odd (no domains, a domain missing, the
   * shell gone) is asked again with one-shot virsh, which reports libvirt's errors properly.
   */
  async function list(): Promise<DomainRecord[]> {
    try {
      const watching = events.watching();
      const ticket = cache.ticket();
      const out = await session.run(["domstats --state --nowait", "echo QX-SEPARATOR", "list --all --autostart --name"]);
      const [stats = "", auto = ""] = out.split("QX-SEPARATOR");
      const states = parseDomstats(stats);
      if (states.length > 0) {
        const xml = new Map<string, string>();
        if (watching) {
          for (const d of states) {
            const hit = cache.lookup(d.name, d.state);
            if (hit !== undefined) xml.set(d.name, hit);
          }
        }
        const missing = states.filter((d) => !xml.has(d.name));
        const docs = await dumpAll(missing.map((d) => d.name));
        if (docs.length === missing.length && missing.every((d, i) => nameOf(docs[i] ?? "") === d.name)) {
          for (const [i, d] of missing.entries()) {
            const doc = docs[i] ?? "";
            xml.set(d.name, doc);
            if (watching) cache.store(ticket, d.name, d.state, doc);
          }
          cache.retain(new Set(states.map((d) => d.name)));
          const autostart = new Set(auto.split("\n").map((l) => l.trim()).filter(Boolean));
          return states.map((d) => ({ name: d.name, state: d.state, autostart: autostart.has(d.name), xml: xml.get(d.name) ?? "" }));
        }
      }
    } catch {
      // fall through to one-shot virsh
    }
    return listOneShot();
  }

  /**
   * The XML of `names`, in order, through the shell; when there are many (a list with
   * nothing cached yet), the second half goes to a one-shot virsh at the same time.
   */
  async function dumpAll(names: string[]): Promise<string[]> {
    const cmds = (ns: string[]) => ns.map((n) => `dumpxml --domain ${quote(n)}`);
    if (names.length === 0) return [];
    if (names.length < SPLIT_AT) return splitDomains(await session.run(cmds(names)));
    const half = Math.ceil(names.length / 2);
    const [a, b] = await Promise.all([session.run(cmds(names.slice(0, half))), virsh([cmds(names.slice(half)).join(" ; ")])]);
    return [...splitDomains(a), ...splitDomains(b)];
  }

  async function listOneShot(): Promise<DomainRecord[]> {
    const out = await virsh(["list --all ; echo QX-SEPARATOR ; list --all --autostart --name"]);
    const [table = "", auto = ""] = out.split("QX-SEPARATOR");
    const states = parseList(table);
    const autostart = new Set(auto.split("\n").map((l) => l.trim()).filter(Boolean));
    const byName = new Map(states.map((d) => [d.name, d.state]));
    const batches: { name: string }[][] = [];
    for (let i = 0; i < states.length; i += BATCH) batches.push(states.slice(i, i + BATCH));
    const results = await Promise.all(
      batches.map(async (batch) => {
        try {
          return splitDomains(await virsh([batch.map((d) => `dumpxml --domain ${quote(d.name)}`).join(" ; ")]));
        } catch (e) {
          // A domain vanished between the two calls: fall back to one call per domain.
          if (!(e instanceof VirtNotFoundError)) throw e;
          const docs: string[] = [];
          for (const d of batch) {
            const r = await getOneShot(d.name);
            if (r) docs.push(r.xml);
          }
          return docs;
        }
      }),
    );
    return results.flat().map((xml) => {
      const name = nameOf(xml);
      return { name, state: byName.get(name) ?? "unknown", autostart: autostart.has(name), xml };
    });
  }

  async function get(name: string): Promise<DomainRecord | null> {
    try {
      const out = await session.run([`dominfo --domain ${quote(name)}`, `dumpxml --domain ${quote(name)}`]);
      if (/^Name:\s/m.test(out) && out.includes("</domain>")) return recordFrom(name, out);
    } catch {
      // fall through to one-shot virsh
    }
    return getOneShot(name);
  }

  async function getOneShot(name: string): Promise<DomainRecord | null> {
    let out: string;
    try {
      out = await virsh([`dominfo --domain ${quote(name)} ; dumpxml --domain ${quote(name)}`], name);
    } catch (e) {
      if (e instanceof VirtNotFoundError) return null;
      throw e;
    }
    return recordFrom(name, out);
  }

  /** A record from `dominfo ; dumpxml` output. */
  function recordFrom(name: string, out: string): DomainRecord {
    const state = /^State:\s*(.+)$/m.exec(out)?.[1] ?? "";
    const autostart = /^Autostart:\s*enable/m.test(out);
    const xml = splitDomains(out)[0];
    if (!xml) throw new VirtCommandError(`libvirt returned no XML for ${name}`);
    return { name, state: parseState(state), autostart, xml };
  }

  /** Writes `xml` to a private temporary file for virsh, runs `f`, removes the file. */
  async function withXmlFile<T>(xml: string, f: (file: string) => Promise<T>): Promise<T> {
    // virsh reads the XML from a file (Node gives a child a socket, not a pipe, as stdin).
    const dir = await fs.mkdtemp(join(tmpdir(), "qx-define-"));
    try {
      await fs.writeFile(join(dir, "domain.xml"), xml, { mode: 0o600 });
      return await f(join(dir, "domain.xml"));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  let type: Promise<"kvm" | "qemu"> | null = null;
  return {
    list,
    get,
    async define(xml) {
      await changing(nameOf(xml), () => withXmlFile(xml, (file) => virsh(["define", "--file", file], nameOf(xml))));
    },
    async create(xml, c) {
      // One virsh process for every step; later steps name the domain by its UUID, so
      // if the define is refused (name taken) they cannot touch the other domain.
      const name = nameOf(xml);
      const uuid = /<uuid>([0-9a-f-]{36})<\/uuid>/.exec(xml)?.[1];
      if (!uuid) throw new VirtCommandError("domain XML without a UUID");
      const steps = [c.autostart ? `autostart --domain ${uuid}` : "", c.start ? `start --domain ${uuid}` : "", `dominfo --domain ${uuid}`, `dumpxml --domain ${uuid}`];
      // virsh runs every command of a batch and exits with the status of the last
      // one, so a failed step is recognised by its "error:" on stderr.
      const rollback = async (e: ExecError): Promise<never> => {
        await runner("virsh", ["-q", "-c", uri, `destroy --domain ${uuid} ; undefine --domain ${uuid} --nvram`], { timeoutMs, allowFailure: true }).catch(() => undefined);
        const first = e.stderr.split(/\n(?=error: )/).slice(0, 2).join("\n");
        throw mapVirshError(new ExecError(e.command, e.args, e.exitCode ?? 1, e.signal, e.stdout, first), name);
      };
      return changing(name, () => withXmlFile(xml, async (file) => {
        const args = ["-q", "-c", uri, [`define --file ${quote(file)}`, ...steps.filter(Boolean)].join(" ; ")];
        let r: Awaited<ReturnType<typeof runner>>;
        try {
          r = await runner("virsh", args, { timeoutMs, ...(o.env ? { env: o.env } : {}) });
        } catch (e) {
          if (e instanceof ExecError && /defined from/.test(e.stdout)) return rollback(e);
          throw mapVirshError(e, name);
        }
        if (/^error:/m.test(r.stderr)) return rollback(new ExecError("virsh", args, 1, null, r.stdout, r.stderr));
        return recordFrom(name, r.stdout);
      }));
    },
    async undefine(name) {
      await changing(name, () => virsh(["undefine", "--domain", name, "--nvram"], name));
    },
    async start(name) {
      await changing(name, () => virsh(["start", "--domain", name], name));
    },
    async shutdown(name) {
      await changing(name, () => virsh(["shutdown", "--domain", name, "--mode", "acpi"], name));
    },
    async destroy(name) {
      await changing(name, () => virsh(["destroy", "--domain", name], name));
    },
    async reboot(name) {
      await changing(name, () => virsh(["reboot", "--domain", name, "--mode", "acpi"], name));
    },
    async setAutostart(name, on) {
      await virsh(["autostart", "--domain", name, ...(on ? [] : ["--disable"])], name);
    },
    async stats() {
      // Every 10 s from the metrics history: through the long-lived shell, one round
      // trip and no fork; one-shot virsh (which reports libvirt's errors) when it fails.
      try {
        const out = await session.run([DOMSTATS, "echo QX-END"]);
        if (out.includes("QX-END")) return parseDomainStats(out);
      } catch {}
      return parseDomainStats(await virsh(DOMSTATS.split(" ")));
    },
    watch(listener) {
      lifecycleListeners.add(listener);
      events.watching();
      if (!rewatch) {
        rewatch = setInterval(() => events.watching(), WATCH_RETRY_MS);
        rewatch.unref();
      }
      return () => {
        lifecycleListeners.delete(listener);
        if (lifecycleListeners.size === 0) {
          clearInterval(rewatch);
          rewatch = undefined;
        }
      };
    },
    domainType() {
      if (o.accel && o.accel !== "auto") return Promise.resolve(o.accel);
      type ??= fs.access("/dev/kvm", fsConstants.R_OK | fsConstants.W_OK).then(
        () => "kvm" as const,
        () => "qemu" as const,
      );
      return type;
    },
  };
}
