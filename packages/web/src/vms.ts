/**
 * @module vms
 * The VMs page of the web UI, in Preact components (web/ui): the VM list with live
 * state and power actions, a creation wizard (general, storage, network, review), the
 * storage pool with ISO upload (percent, speed, cancel), and a VM's serial console
 * (xterm.js, /term.js) or display (noVNC, /vnc.js) over the API's WebSockets; both
 * viewers are separate scripts loaded the first time one is opened.
 *
 * The page keeps its DOM across updates: the list is read again when the node's change
 * stream (`/api/v1/changes`) names a VM, volume or task, and every 10 s as a fallback,
 * and Preact patches only what changed, so an open console or a half-filled wizard is
 * never replaced. Each endpoint is read on its own: one that fails (libvirtd down) says
 * so in its panel with the API's sentence, and the rest works. A console has its URL
 * (`#/vms/NAME/console`, `#/vms/NAME/display`), so a reload reopens it. The session
 * token travels on a WebSocket as the `qx-auth.<token>` subprotocol (a browser cannot
 * set headers there).
 */
import { followChanges } from "./activity.ts";
import { Chart, type ChartDef } from "./charts.ts";
import { confirmAction } from "./dialog.ts";
import type { QxTerm, TermSession, TermStatus } from "./term.ts";
import { html, loadScript, loadStyle, render, unmount, useCallback, useEffect, useRef, useState } from "./ui.ts";
import type { QxVnc } from "./vnc.ts";

type Json = Record<string, unknown>;

export interface VmsDeps {
  api<T = Json>(method: string, path: string, body?: unknown): Promise<T>;
  errText(e: unknown): string;
  bytes(n: number): string;
  token(): string;
  /** Aborted when the page is left: the page unmounts, its streams and timers end. */
  signal: AbortSignal;
}

export interface Vm {
  name: string;
  uuid?: string;
  state: string;
  vcpus: number;
  memory_mib: number;
  autostart: boolean;
  description?: string | null;
  firmware: string;
  disks: { volume: string | null; path?: string; bus?: string; target?: string }[];
  cdrom?: { volume: string | null; path: string | null } | null;
  nics: { network: string | null; vlan: number | null; bridge?: string | null; mac?: string | null; model?: string | null; port?: string | null }[];
  boot?: string[];
  console?: { serial: boolean; vnc: boolean };
}
/** `GET /api/v1/vms/NAME/metrics`: a point every 10 s while the VM runs. */
export interface VmPoint {
  t: number;
  cpuCores: number;
  memoryBytes: number;
  memoryRssBytes: number | null;
  diskReadBytesPerSec: number;
  diskWriteBytesPerSec: number;
  netRxBytesPerSec: number;
  netTxBytesPerSec: number;
}
interface NodeEvent {
  id: number;
  time: string;
  severity: string;
  kind: string;
  message: string;
  actor: string | null;
}
export interface Volume {
  name: string;
  capacity_bytes: number;
  allocation_bytes: number;
  format: string;
  used_by: string[];
}
interface Network {
  name: string;
  bridge: string;
  vlan?: number;
}
interface Pool {
  path: string;
  filesystem: string;
  available_bytes: number;
  capacity_bytes: number;
  provisioned_bytes: number;
}
/** What the page reads; `null` while loading; an error sentence when the read failed. */
type Loaded<T> = { ok: true; value: T } | { ok: false; error: string } | null;
interface PageData {
  vms: Loaded<Vm[]>;
  volumes: Loaded<Volume[]>;
  pool: Loaded<Pool>;
  networks: Loaded<Network[]>;
  freeMib: Loaded<number>;
}
/** The tabs of a VM's details; `console` and `display` need it running. */
const TABS = ["summary", "console", "display", "hardware", "events"] as const;
type Tab = (typeof TABS)[number];
const TAB_TEXT: Record<Tab, string> = { summary: "Summary", console: "Console", display: "Display", hardware: "Hardware", events: "Events" };
const needsRunning = (t: Tab) => t === "console" || t === "display";
interface Open {
  vm: string;
  kind: Tab;
}

const MIB = 1048576;
/** The VM network a fresh node makes (network.yaml), offered first by the wizard. */
const DEFAULT_NETWORK = "vm-network";
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const enc = encodeURIComponent;
const running = (v: Vm) => v.state === "running" || v.state === "paused";

/** The VM details a URL names: `#/vms/web-1` (its summary), `#/vms/web-1/console`, ... */
export function consoleFromHash(hash: string): Open | null {
  const m = /^#\/vms\/([^/]+)(?:\/(summary|console|display|hardware|events))?$/.exec(hash);
  return m?.[1] ? { vm: decodeURIComponent(m[1]), kind: (m[2] as Tab | undefined) ?? "summary" } : null;
}

/** The WebSocket URL of a VM's `console` or `vnc` and the subprotocols that carry the token. */
function wsTarget(d: VmsDeps, name: string, kind: "console" | "vnc"): [string, string[]] {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return [`${proto}//${location.host}/api/v1/vms/${enc(name)}/${kind}`, ["qx-console", `qx-auth.${d.token()}`]];
}

function Msg({ kind, text }: { kind: "error" | "info" | "warn"; text: string }) {
  return html`<div class=${`msg ${kind}`} role=${kind === "error" ? "alert" : "status"}>${text}</div>`;
}

/** A panel's body: a spinner while loading, the API's sentence when the read failed. */
function Panel<T>({ data, what, children }: { data: Loaded<T>; what: string; children: (v: T) => unknown }) {
  if (data === null) return html`<p class="muted loading" aria-busy="true"><span class="spinner"></span> Loading…</p>`;
  if (!data.ok) return html`<${Msg} kind="error" text=${`${what}: ${data.error}`} />`;
  return children(data.value);
}

// ---- consoles ----------------------------------------------------------------

/** A VM's serial console in xterm.js. */
function SerialConsole({ d, vm }: { d: VmsDeps; vm: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState<{ s: TermStatus | "loading"; text: string }>({ s: "loading", text: "loading the terminal…" });
  const session = useRef<TermSession | null>(null);
  useEffect(() => {
    let gone = false;
    loadStyle("/term.css");
    loadScript<QxTerm>("/term.js", "qxTerm", "serial console").then(
      (t) => {
        if (gone || !box.current) return;
        const [url, protocols] = wsTarget(d, vm, "console");
        session.current = t.open(box.current, url, protocols, (s, text) => !gone && setStatus({ s, text }));
        (box.current as HTMLDivElement & { qxTerm?: TermSession }).qxTerm = session.current;
      },
      (e: unknown) => setStatus({ s: "error", text: d.errText(e) }),
    );
    return () => {
      gone = true;
      session.current?.dispose();
    };
  }, [vm]);
  const size = session.current?.size();
  return html`
    <div class=${status.s === "error" ? "bad" : "muted"} id="vm-console-status" data-status=${status.s}>
      ${status.text}${status.s === "connected" && size ? ` · ${size.cols}×${size.rows} · Ctrl+Shift+C / Ctrl+Shift+V copy and paste` : ""}
    </div>
    <div class="term-screen" id="vm-console" ref=${box}></div>`;
}

/** A VM's display in noVNC, scaled into the box. */
function Display({ d, vm }: { d: VmsDeps; vm: string }) {
  const box = useRef<HTMLDivElement>(null);
  const [status, setStatus] = useState({ s: "connecting", text: `connecting to the display of ${vm}…` });
  const viewer = useRef<ReturnType<QxVnc["open"]> | null>(null);
  const [ready, setReady] = useState(false);
  useEffect(() => {
    let gone = false;
    loadScript<QxVnc>("/vnc.js", "qxVnc", "VNC viewer").then(
      (v) => {
        if (gone || !box.current) return;
        const [url, protocols] = wsTarget(d, vm, "vnc");
        viewer.current = v.open(box.current, url, protocols, (s, text) => !gone && setStatus({ s, text }));
        setReady(true);
      },
      (e: unknown) => setStatus({ s: "error", text: d.errText(e) }),
    );
    return () => {
      gone = true;
      viewer.current?.disconnect();
    };
  }, [vm]);
  return html`
    <div class=${status.s === "error" ? "bad" : "muted"} id="vm-vnc-status" data-status=${status.s}>${status.text}</div>
    <div class="vnc-screen" id="vm-vnc" ref=${box}></div>
    ${ready && html`<div class="row"><button class="secondary" onClick=${() => viewer.current?.ctrlAltDel()}>Send Ctrl+Alt+Del</button></div>`}`;
}

/** The figures of a VM's summary charts. */
function vmChartDefs(bytes: (n: number) => string): ChartDef<VmPoint>[] {
  return [
    { id: "vm-cpu", title: "CPU", series: [{ label: "used", value: (p) => p.cpuCores, color: "#2f7de1" }], fmt: (v) => `${v.toFixed(2)} CPU`, now: (p) => `${p.cpuCores.toFixed(2)} host CPUs busy` },
    { id: "vm-memory", title: "Memory", series: [{ label: "resident", value: (p) => p.memoryRssBytes ?? p.memoryBytes, color: "#8a4fd6" }], fmt: bytes, now: (p) => `${bytes(p.memoryRssBytes ?? p.memoryBytes)} resident of ${bytes(p.memoryBytes)}` },
    {
      id: "vm-disk",
      title: "Disk",
      series: [
        { label: "read", value: (p) => p.diskReadBytesPerSec, color: "#1f9d61" },
        { label: "write", value: (p) => p.diskWriteBytesPerSec, color: "#d6453d" },
      ],
      fmt: (v) => `${bytes(v)}/s`,
      now: (p) => `read ${bytes(p.diskReadBytesPerSec)}/s, write ${bytes(p.diskWriteBytesPerSec)}/s`,
    },
    {
      id: "vm-network",
      title: "Network",
      series: [
        { label: "in", value: (p) => p.netRxBytesPerSec, color: "#1f9d61" },
        { label: "out", value: (p) => p.netTxBytesPerSec, color: "#d6453d" },
      ],
      fmt: (v) => `${bytes(v)}/s`,
      now: (p) => `in ${bytes(p.netRxBytesPerSec)}/s, out ${bytes(p.netTxBytesPerSec)}/s`,
    },
  ];
}

/** Summary: the VM's facts and its figures of the last hour (appended every 10 s). */
function Summary({ d, v }: { d: VmsDeps; v: Vm }) {
  const [points, setPoints] = useState<VmPoint[]>([]);
  const [error, setError] = useState("");
  const defs = useRef(vmChartDefs(d.bytes));
  useEffect(() => {
    let gone = false;
    let newest = 0;
    const read = async () => {
      try {
        const r = await d.api<{ points: VmPoint[] }>("GET", `/api/v1/vms/${enc(v.name)}/metrics${newest ? `?since=${newest}` : ""}`);
        if (gone) return;
        setError("");
        if (r.points.length) setPoints((o) => (newest ? [...o, ...r.points] : r.points).slice(-360));
        newest = r.points[r.points.length - 1]?.t ?? newest;
      } catch (e) {
        if (!gone) setError(`The VM's figures could not be read: ${d.errText(e)}`);
      }
    };
    void read();
    const timer = window.setInterval(read, 10_000);
    return () => {
      gone = true;
      window.clearInterval(timer);
    };
  }, [v.name]);
  return html`
    <dl class="facts" id="vm-summary">
      <dt>State</dt><dd data-state=${v.state}>${v.state}${v.autostart ? " · starts with the node" : ""}</dd>
      <dt>CPU / memory</dt><dd>${v.vcpus} vCPU, ${v.memory_mib} MiB</dd>
      <dt>Networks</dt><dd>${v.nics.map((n) => `${n.network ?? "?"}${n.vlan ? ` (VLAN ${n.vlan})` : ""}`).join(", ") || "none"}</dd>
      ${v.description && html`<dt>Description</dt><dd>${v.description}</dd>`}
    </dl>
    ${error && html`<${Msg} kind="error" text=${error} />`}
    ${!error && points.length === 0 && html`<p class="muted">${running(v) ? "Collecting: the first figures come within 20 seconds of the VM's start." : "No figures: the VM is not running."}</p>`}
    <div class="charts">${defs.current.map((def) => html`<${Chart} key=${def.id} def=${def} points=${points} />`)}</div>`;
}

/** Hardware: what libvirt has for the VM, as the API gives it. */
function Hardware({ v }: { v: Vm }) {
  return html`
    <dl class="facts" id="vm-hardware">
      <dt>UUID</dt><dd>${v.uuid ?? "—"}</dd>
      <dt>Firmware</dt><dd>${v.firmware === "uefi" ? "UEFI (OVMF)" : "BIOS (SeaBIOS)"}</dd>
      <dt>Boot order</dt><dd>${(v.boot ?? []).join(", ") || "—"}</dd>
      <dt>vCPUs</dt><dd>${v.vcpus}</dd>
      <dt>Memory</dt><dd>${v.memory_mib} MiB</dd>
      <dt>CD/DVD</dt><dd>${v.cdrom ? (v.cdrom.volume ?? v.cdrom.path ?? "empty") : "none"}</dd>
      <dt>Consoles</dt><dd>${[v.console?.serial && "serial", v.console?.vnc && "VNC"].filter(Boolean).join(", ") || "none"}</dd>
    </dl>
    <h3>Disks</h3>
    ${v.disks.length
      ? html`<table id="vm-disks"><tr><th>Target</th><th>Bus</th><th>Volume</th><th>Path</th></tr>
          ${v.disks.map((x) => html`<tr><td>${x.target ?? "?"}</td><td>${x.bus ?? "?"}</td><td>${x.volume ?? html`<span class="muted">outside the pool</span>`}</td><td class="muted">${x.path ?? ""}</td></tr>`)}</table>`
      : html`<p class="muted">No disk.</p>`}
    <h3>Network adapters</h3>
    ${v.nics.length
      ? html`<table id="vm-nics"><tr><th>Network</th><th>Bridge</th><th>VLAN</th><th>MAC</th><th>Model</th><th>Port</th></tr>
          ${v.nics.map((n) => html`<tr><td>${n.network ?? "?"}</td><td>${n.bridge ?? "?"}</td><td>${n.vlan ?? "untagged"}</td><td>${n.mac ?? "?"}</td><td>${n.model ?? "?"}</td><td>${n.port ?? html`<span class="muted">while running</span>`}</td></tr>`)}</table>`
      : html`<p class="muted">No network adapter.</p>`}`;
}

/** Events: the node's event log about this VM, newest first. */
function Events({ d, v }: { d: VmsDeps; v: Vm }) {
  const [events, setEvents] = useState<NodeEvent[] | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    let gone = false;
    const read = () =>
      d.api<{ events: NodeEvent[] }>("GET", `/api/v1/events?subject=${enc(`vm:${v.name}`)}&limit=200`).then(
        (r) => {
          if (gone) return;
          setEvents(r.events);
          setError("");
        },
        (e: unknown) => !gone && setError(`The events could not be read: ${d.errText(e)}`),
      );
    void read();
    const timer = window.setInterval(read, 10_000);
    return () => {
      gone = true;
      window.clearInterval(timer);
    };
  }, [v.name]);
  if (error) return html`<${Msg} kind="error" text=${error} />`;
  if (events === null) return html`<p class="muted loading" aria-busy="true"><span class="spinner"></span> Loading…</p>`;
  if (events.length === 0) return html`<p class="muted">No events about ${v.name} yet.</p>`;
  return html`<table id="vm-events"><tr><th>Time</th><th>Severity</th><th>What</th><th>Who</th></tr>
    ${[...events].reverse().map((e) => html`<tr data-kind=${e.kind}><td>${new Date(e.time).toLocaleString()}</td><td class=${e.severity === "error" ? "bad" : ""}>${e.severity}</td><td>${e.message}</td><td>${e.actor ?? "system"}</td></tr>`)}</table>`;
}

/** A VM's details in tabs: summary, console, display, hardware, events; each tab has its URL. */
function DetailsPanel({ d, v, open, go, close }: { d: VmsDeps; v: Vm; open: Open; go: (t: Tab) => void; close: () => void }) {
  const tab = open.kind;
  return html`
    <section class="card" id="console-panel" data-vm=${open.vm} data-kind=${tab}>
      <div class="row spread">
        <h2>VM ${open.vm}</h2>
        <button class="secondary" id="console-close" onClick=${close}>Close</button>
      </div>
      <div class="segmented" role="tablist" aria-label="VM details">
        ${TABS.map((t) => {
          const off = needsRunning(t) && !running(v);
          return html`<button role="tab" class=${t === tab ? "primary" : "secondary"} aria-selected=${t === tab} data-tab=${t} disabled=${off} title=${off ? `${TAB_TEXT[t]} needs the VM running` : ""} onClick=${() => go(t)}>${TAB_TEXT[t]}</button>`;
        })}
      </div>
      ${tab === "summary" && html`<${Summary} d=${d} v=${v} />`}
      ${tab === "console" && html`<${SerialConsole} key=${open.vm} d=${d} vm=${open.vm} />`}
      ${tab === "display" && html`<${Display} key=${open.vm} d=${d} vm=${open.vm} />`}
      ${tab === "hardware" && html`<${Hardware} v=${v} />`}
      ${tab === "events" && html`<${Events} d=${d} v=${v} />`}
    </section>`;
}

// ---- the VM list ---------------------------------------------------------------

function VmRow({ d, v, act, openConsole }: { d: VmsDeps; v: Vm; act: (f: () => Promise<unknown>) => () => void; openConsole: (o: Open) => void }) {
  const path = `/api/v1/vms/${enc(v.name)}`;
  const forceOff = act(async () => {
    const r = await confirmAction({ title: `Force VM ${v.name} off?`, what: "Like pulling the plug: the guest gets no chance to shut down, and what it had not written to disk is lost. Shut down asks the guest instead.", confirm: "Force off" });
    if (r.confirmed) await d.api("POST", `${path}/force-off`);
  });
  const remove = act(async () => {
    const disks = v.disks.map((x) => x.volume).filter(Boolean).join(", ");
    const r = await confirmAction({
      title: `Delete VM ${v.name}?`,
      what: `Its definition is removed${running(v) ? "; it is running and is powered off first (no clean shutdown)" : ""}. ${disks ? `Its disks (${disks}) are kept unless you tick the box; ISOs are never deleted.` : "It has no disk."}`,
      confirm: "Delete VM",
      ...(disks ? { option: `Also delete its disks (${disks})` } : {}),
    });
    if (r.confirmed) await d.api("DELETE", `${path}?force=${running(v)}&delete_disks=${r.option}`);
  });
  const stateClass = v.state === "running" ? "ok" : v.state === "shutoff" ? "muted" : "bad";
  return html`
    <tr data-vm=${v.name}>
      <td><a href=${`#/vms/${enc(v.name)}`} data-action="details" onClick=${(e: Event) => {
        e.preventDefault();
        openConsole({ vm: v.name, kind: "summary" });
      }}><strong>${v.name}</strong></a>${v.autostart && html`<div class="muted">starts with the node</div>`}</td>
      <td class=${stateClass} data-state=${v.state}>${v.state}</td>
      <td>${v.vcpus} vCPU, ${v.memory_mib} MiB, ${v.firmware}</td>
      <td>
        ${v.disks.map((x) => x.volume ?? "?").join(", ") || "no disk"}
        <div class="muted">${v.nics.map((n) => `${n.network ?? "?"}${n.vlan ? ` (VLAN ${n.vlan})` : ""}`).join(", ")}</div>
      </td>
      <td class="actions">
        ${
          running(v)
            ? html`
              <button class="secondary" onClick=${act(() => d.api("POST", `${path}/shutdown`))}>Shut down</button>
              <button class="secondary" onClick=${act(() => d.api("POST", `${path}/reboot`))}>Reboot</button>
              <button class="danger" onClick=${forceOff}>Force off</button>
              <button class="secondary" data-action="console" onClick=${() => openConsole({ vm: v.name, kind: "console" })}>Console</button>
              <button class="secondary" data-action="display" onClick=${() => openConsole({ vm: v.name, kind: "display" })}>Display</button>`
            : html`<button class="primary" data-action="start" onClick=${act(() => d.api("POST", `${path}/start`))}>Start</button>`
        }
        <button class="danger" onClick=${remove}>Delete</button>
      </td>
    </tr>`;
}

// ---- the creation wizard -----------------------------------------------------------

interface Draft {
  name: string;
  vcpus: number;
  memory: number;
  firmware: "bios" | "uefi";
  autostart: boolean;
  diskMode: "new" | "existing" | "none";
  diskGib: number;
  existing: string;
  iso: string;
  network: string;
  vlan: string;
  start: boolean;
}
const STEPS = ["General", "Storage", "Network", "Review"] as const;

/** The field errors of `step` (empty when the step may be left forward). */
export function draftErrors(step: number, x: Draft, ctx: { freeMib: number | null; vmNames: string[]; volumes: string[] }): Record<string, string> {
  const e: Record<string, string> = {};
  if (step === 0) {
    if (!NAME_RE.test(x.name)) e["name"] = "A name is 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit.";
    else if (ctx.vmNames.includes(x.name)) e["name"] = `A VM named ${x.name} exists already; pick another name.`;
    if (!Number.isInteger(x.vcpus) || x.vcpus < 1 || x.vcpus > 256) e["vcpus"] = "vCPUs must be a whole number from 1 to 256.";
    if (!Number.isInteger(x.memory) || x.memory < 16) e["memory"] = "Memory must be at least 16 MiB.";
    else if (x.start && ctx.freeMib !== null && x.memory > ctx.freeMib)
      e["memory"] = `Memory must be at most ${ctx.freeMib} MiB: that is what this host has free now. Lower it, or create the VM without starting it (Review step).`;
  }
  if (step === 1) {
    if (x.diskMode === "new") {
      if (!(x.diskGib > 0)) e["disk"] = "A new disk needs a size above 0 GiB.";
      else if (ctx.volumes.includes(`${x.name}-disk0`)) e["disk"] = `A volume named ${x.name}-disk0 exists already: pick it as an existing disk, or rename the VM.`;
    }
    if (x.diskMode === "existing" && !x.existing) e["existing"] = "Pick the volume to use as the disk.";
  }
  if (step === 2 && x.vlan !== "") {
    const v = Number(x.vlan);
    if (!Number.isInteger(v) || v < 1 || v > 4094) e["vlan"] = "A VLAN is a whole number from 1 to 4094.";
  }
  return e;
}

/** The API spec a finished draft makes. */
export function draftSpec(x: Draft): Json {
  const disks = x.diskMode === "new" ? [{ volume: `${x.name}-disk0`, size_mib: Math.round(x.diskGib * 1024) }] : x.diskMode === "existing" ? [{ volume: x.existing }] : [];
  const spec: Json = {
    name: x.name,
    vcpus: x.vcpus,
    memory_mib: x.memory,
    firmware: x.firmware,
    autostart: x.autostart,
    disks,
    nics: x.network ? [{ network: x.network, ...(x.vlan ? { vlan: Number(x.vlan) } : {}) }] : [],
    start: x.start,
  };
  if (x.iso) {
    spec["cdrom"] = x.iso;
    spec["boot"] = ["cdrom", "disk"];
  }
  return spec;
}

function Field({ label, error, children, hint }: { label: string; error?: string | undefined; children: unknown; hint?: unknown }) {
  return html`<label class=${error ? "invalid" : ""}>${label}${children}${hint && html`<span class="muted hint">${hint}</span>`}${error && html`<span class="field-error" role="alert">${error}</span>`}</label>`;
}

function Wizard({ d, data, created }: { d: VmsDeps; data: PageData; created: () => void }) {
  const nets = data.networks?.ok ? data.networks.value : [];
  const vols = data.volumes?.ok ? data.volumes.value : [];
  const freeMib = data.freeMib?.ok ? data.freeMib.value : null;
  const vmNames = data.vms?.ok ? data.vms.value.map((v) => v.name) : [];
  const initial = (): Draft => ({
    name: "", vcpus: 1, memory: 1024, firmware: "bios", autostart: false, diskMode: "new", diskGib: 20, existing: "", iso: "",
    network: (nets.find((n) => n.name === DEFAULT_NETWORK) ?? nets[0])?.name ?? "", vlan: "", start: true,
  });
  const [x, setX] = useState<Draft>(initial);
  const [step, setStep] = useState(0);
  const [shown, setShown] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState("");
  // The default network arrives with the first read; pick it unless the user chose.
  const picked = useRef(false);
  useEffect(() => {
    if (!picked.current && !x.network && nets.length) setX((o) => ({ ...o, network: (nets.find((n) => n.name === DEFAULT_NETWORK) ?? nets[0])?.name ?? "" }));
  }, [nets.length]);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    if (k === "network") picked.current = true;
    setX((o) => ({ ...o, [k]: v }));
    setShown((s) => (s[k === "diskGib" ? "disk" : (k as string)] ? { ...s, [k === "diskGib" ? "disk" : k]: "" } : s));
  };
  const ctx = { freeMib, vmNames, volumes: vols.map((v) => v.name) };
  const next = () => {
    const e = draftErrors(step, x, ctx);
    setShown(e);
    if (Object.keys(e).length === 0) setStep(step + 1);
  };
  const submit = async (ev: Event) => {
    ev.preventDefault();
    if (step < STEPS.length - 1) return next();
    for (let s = 0; s < STEPS.length - 1; s++) {
      const e = draftErrors(s, x, ctx);
      if (Object.keys(e).length) {
        setStep(s);
        setShown(e);
        return;
      }
    }
    setBusy(true);
    setFailure("");
    try {
      await d.api("POST", "/api/v1/vms", draftSpec(x));
      setX(initial());
      setStep(0);
      created();
    } catch (e) {
      setFailure(d.errText(e));
    } finally {
      setBusy(false);
    }
  };
  const num = (k: "vcpus" | "memory" | "diskGib") => (ev: Event) => set(k, Number((ev.target as HTMLInputElement).value));
  const str = (k: "name" | "existing" | "iso" | "network" | "vlan" | "firmware" | "diskMode") => (ev: Event) => set(k, (ev.target as HTMLInputElement).value as never);
  const chk = (k: "autostart" | "start") => (ev: Event) => set(k, (ev.target as HTMLInputElement).checked);
  const isos = vols.filter((v) => v.format === "iso");
  const disksFree = vols.filter((v) => v.format !== "iso" && v.used_by.length === 0);
  const net = nets.find((n) => n.name === x.network);
  const diskText = x.diskMode === "new" ? `new ${x.diskGib} GiB disk ${x.name}-disk0` : x.diskMode === "existing" ? `existing volume ${x.existing}` : "no disk";
  return html`
    <form id="vm-create" data-step=${STEPS[step]} onSubmit=${submit} novalidate>
      <ol class="steps">${STEPS.map((s, i) => html`<li class=${i === step ? "active" : i < step ? "done" : ""} aria-current=${i === step ? "step" : undefined}>${s}</li>`)}</ol>
      <div class="row" hidden=${step !== 0}>
        <${Field} label="Name" error=${shown["name"]}><input name="name" value=${x.name} onInput=${str("name")} autocomplete="off" /><//>
        <${Field} label="vCPUs" error=${shown["vcpus"]}><input name="vcpus" type="number" min="1" max="256" value=${x.vcpus} onInput=${num("vcpus")} /><//>
        <${Field} label="Memory (MiB)" error=${shown["memory"]}
          hint=${freeMib === null ? (data.freeMib && !data.freeMib.ok ? "free memory unknown" : "") : html`<span id="host-free">${freeMib} MiB free on this host</span>`}>
          <input name="memory" type="number" min="16" value=${x.memory} onInput=${num("memory")} /><//>
        <${Field} label="Firmware"><select name="firmware" value=${x.firmware} onChange=${str("firmware")}><option value="bios">BIOS</option><option value="uefi">UEFI</option></select><//>
        <${Field} label="Autostart"><input name="autostart" type="checkbox" checked=${x.autostart} onChange=${chk("autostart")} /><//>
      </div>
      <div class="row" hidden=${step !== 1}>
        <${Field} label="Disk">
          <select name="diskMode" value=${x.diskMode} onChange=${str("diskMode")}>
            <option value="new">New disk</option><option value="existing" disabled=${disksFree.length === 0}>Existing volume</option><option value="none">No disk</option>
          </select><//>
        ${x.diskMode === "new" && html`<${Field} label="Size (GiB)" error=${shown["disk"]}><input name="disk" type="number" min="1" value=${x.diskGib} onInput=${num("diskGib")} /><//>`}
        ${x.diskMode === "existing" && html`<${Field} label="Volume" error=${shown["existing"]}><select name="existing" value=${x.existing} onChange=${str("existing")}><option value="">pick one</option>${disksFree.map((v) => html`<option value=${v.name}>${v.name} (${d.bytes(v.capacity_bytes)})</option>`)}</select><//>`}
        <${Field} label="ISO" hint=${isos.length ? "" : "no ISO in the pool yet: upload one below"}><select name="iso" value=${x.iso} onChange=${str("iso")}><option value="">none</option>${isos.map((i) => html`<option value=${i.name}>${i.name}</option>`)}</select><//>
      </div>
      <div class="row" hidden=${step !== 2}>
        <${Field} label="Network" hint=${nets.length ? "" : "this node has no VM network yet (Network page): the VM gets no NIC"}>
          <select name="network" value=${x.network} onChange=${str("network")}><option value="">none</option>${nets.map((n) => html`<option value=${n.name}>${n.name}${n.vlan ? ` (VLAN ${n.vlan})` : ""} on ${n.bridge}</option>`)}</select><//>
        ${x.network && net?.vlan === undefined && html`<${Field} label="VLAN (optional)" error=${shown["vlan"]}><input name="vlan" type="number" min="1" max="4094" value=${x.vlan} onInput=${str("vlan")} /><//>`}
      </div>
      <div hidden=${step !== 3}>
        <dl class="review" id="vm-review">
          <dt>Name</dt><dd>${x.name}</dd>
          <dt>CPU and memory</dt><dd>${x.vcpus} vCPU, ${x.memory} MiB, ${x.firmware === "uefi" ? "UEFI" : "BIOS"}</dd>
          <dt>Storage</dt><dd>${diskText}${x.iso ? `; boots ${x.iso} first` : ""}</dd>
          <dt>Network</dt><dd>${x.network ? `${x.network}${x.vlan ? ` VLAN ${x.vlan}` : net?.vlan ? ` (VLAN ${net.vlan})` : ""}` : "no NIC"}</dd>
        </dl>
        <label class="inline"><input name="start" type="checkbox" checked=${x.start} onChange=${chk("start")} /> Start it now</label>
      </div>
      ${failure && html`<${Msg} kind="error" text=${failure} />`}
      <div class="row">
        ${step > 0 && html`<button type="button" class="secondary" data-step-back onClick=${() => { setShown({}); setStep(step - 1); }}>Back</button>`}
        ${step < STEPS.length - 1 ? html`<button type="submit" class="primary" data-step-next>Next</button>` : html`<button type="submit" class="primary" id="vm-create-submit" disabled=${busy}>${busy ? "Creating…" : x.start ? "Create and start" : "Create"}</button>`}
      </div>
    </form>`;
}

// ---- storage -------------------------------------------------------------------------

interface UploadState {
  name: string;
  loaded: number;
  total: number;
  rate: number;
  xhr: XMLHttpRequest;
}

function Storage({ d, data, act, reload }: { d: VmsDeps; data: PageData; act: (f: () => Promise<unknown>) => () => void; reload: () => void }) {
  const [up, setUp] = useState<UploadState | null>(null);
  const [note, setNote] = useState<{ kind: "error" | "info"; text: string } | null>(null);
  const start = (file: File) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/v1/storage/volumes/${enc(file.name)}/content`);
    xhr.setRequestHeader("authorization", `Bearer ${d.token()}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    const t0 = performance.now();
    setNote(null);
    setUp({ name: file.name, loaded: 0, total: file.size, rate: 0, xhr });
    xhr.upload.onprogress = (e) => {
      const s = (performance.now() - t0) / 1000;
      setUp((u) => u && { ...u, loaded: e.loaded, total: e.lengthComputable ? e.total : file.size, rate: s > 0 ? e.loaded / s : 0 });
    };
    xhr.onload = () => {
      setUp(null);
      if (xhr.status === 201) {
        setNote({ kind: "info", text: `${file.name} uploaded (${d.bytes(file.size)}).` });
        reload();
      } else setNote({ kind: "error", text: errorOf(xhr.responseText, xhr.status) });
    };
    xhr.onerror = () => {
      setUp(null);
      setNote({ kind: "error", text: "The upload failed: the connection to the node was lost. Try again." });
    };
    xhr.onabort = () => {
      setUp(null);
      setNote({ kind: "info", text: `The upload of ${file.name} was cancelled; nothing was kept.` });
    };
    xhr.send(file);
  };
  const pct = up?.total ? Math.floor((100 * up.loaded) / up.total) : 0;
  return html`
    <section class="card" id="storage-panel">
      <h2>Storage</h2>
      <${Panel} data=${data.pool} what="The storage pool could not be read">${(p: Pool) =>
        html`<p>${p.path} (${p.filesystem}): ${d.bytes(p.available_bytes)} free of ${d.bytes(p.capacity_bytes)}; volumes provisioned ${d.bytes(p.provisioned_bytes)}</p>`}<//>
      <${Panel} data=${data.volumes} what="The volumes could not be listed">${(vols: Volume[]) => html`
        <table id="volume-table">
          <tr><th>Volume</th><th>Size</th><th>Allocated</th><th>Used by</th><th></th></tr>
          ${vols.map((v) => html`
            <tr key=${v.name} data-volume=${v.name}>
              <td>${v.name}</td><td>${d.bytes(v.capacity_bytes)}</td><td>${d.bytes(v.allocation_bytes)}</td><td>${v.used_by.join(", ") || "—"}</td>
              <td>${!v.used_by.length && html`<button class="secondary" data-delete-volume=${v.name} onClick=${act(async () => {
                const r = await confirmAction({ title: `Delete volume ${v.name}?`, what: `Its ${d.bytes(v.capacity_bytes)} are deleted from /data for good; no VM uses it.`, confirm: "Delete volume" });
                if (r.confirmed) await d.api("DELETE", `/api/v1/storage/volumes/${enc(v.name)}`);
              })}>Delete</button>`}</td>
            </tr>`)}
        </table>`}<//>
      <div class="row">
        <label>Upload an ISO<input type="file" id="iso-upload" accept=".iso,application/octet-stream" disabled=${up !== null}
          onChange=${(ev: Event) => {
            const input = ev.target as HTMLInputElement;
            const f = input.files?.[0];
            input.value = "";
            if (f) start(f);
          }} /></label>
      </div>
      ${up && html`
        <div class="upload" id="upload-progress" data-volume=${up.name}>
          <progress max="100" value=${pct}></progress>
          <span id="upload-text">${up.name}: ${d.bytes(up.loaded)} of ${d.bytes(up.total)} (${pct} %), ${d.bytes(up.rate)}/s</span>
          <button class="secondary" id="upload-cancel" onClick=${() => up.xhr.abort()}>Cancel</button>
        </div>`}
      ${note && html`<${Msg} kind=${note.kind} text=${note.text} />`}
    </section>`;
}

/** The `message` of an API error answer, or a generic text. */
function errorOf(text: string, status: number): string {
  try {
    return String((JSON.parse(text) as Json)["message"]);
  } catch {
    return `The upload failed: HTTP ${status}.`;
  }
}

// ---- the page ------------------------------------------------------------------------

function VmsPage({ d }: { d: VmsDeps }) {
  const [data, setData] = useState<PageData>({ vms: null, volumes: null, pool: null, networks: null, freeMib: null });
  const [open, setOpen] = useState<Open | null>(() => consoleFromHash(location.hash));
  const [actionError, setActionError] = useState("");
  const reload = useCallback(() => {
    const read = <K extends keyof PageData, T>(key: K, path: string, pick: (j: Json) => T) =>
      d.api("GET", path).then(
        (j) => setData((o) => ({ ...o, [key]: { ok: true, value: pick(j) } })),
        (e: unknown) => setData((o) => ({ ...o, [key]: { ok: false, error: d.errText(e) } })),
      );
    void read("vms", "/api/v1/vms", (j) => j["vms"] as Vm[]);
    void read("volumes", "/api/v1/storage/volumes", (j) => j["volumes"] as Volume[]);
    void read("pool", "/api/v1/storage", (j) => j as unknown as Pool);
    void read("networks", "/api/v1/networks", (j) => (j["networks"] as Network[]) ?? []);
    void read("freeMib", "/api/v1/node", (j) => Math.floor(Number((j["memory"] as Json)["availableBytes"]) / MIB));
  }, []);
  useEffect(() => {
    reload();
    const timer = window.setInterval(reload, 10_000);
    let pending = 0;
    // A change that names a VM, a volume or a task: read again (coalesced over 300 ms).
    void followChanges(d.token, d.signal, (type, x) => {
      const o = x as Json;
      const about = String(o["subject"] ?? o["target"] ?? "");
      if (type !== "task" && type !== "event") return;
      if (!/^(vm|volume|storage):/.test(about) && !String(o["kind"] ?? "").startsWith("vm")) return;
      window.clearTimeout(pending);
      pending = window.setTimeout(reload, 300);
    }, async () => reload());
    return () => {
      window.clearInterval(timer);
      window.clearTimeout(pending);
    };
  }, []);
  const openConsole = (o: Open | null) => {
    setOpen(o);
    history.replaceState(null, "", o ? `#/vms/${enc(o.vm)}${o.kind === "summary" ? "" : `/${o.kind}`}` : "#/vms");
  };
  const act = (f: () => Promise<unknown>) => async () => {
    setActionError("");
    try {
      await f();
      reload();
    } catch (e) {
      setActionError(d.errText(e));
    }
  };
  const openVm = open && data.vms?.ok ? data.vms.value.find((v) => v.name === open.vm) : undefined;
  // The details of a VM that went close; a console or display of a VM that stopped goes
  // back to its summary; a VM not listed yet is waited for.
  useEffect(() => {
    if (!open || !data.vms?.ok) return;
    if (!openVm) openConsole(null);
    else if (needsRunning(open.kind) && !running(openVm)) openConsole({ vm: open.vm, kind: "summary" });
  }, [data.vms, open?.vm, open?.kind]);
  return html`
    <div>
      <section class="card" id="vms-panel">
        <h2>Virtual machines</h2>
        <${Panel} data=${data.vms} what="The VMs could not be listed">${(vms: Vm[]) =>
          vms.length
            ? html`<table id="vm-table">
                <tr><th>VM</th><th>State</th><th>CPU / memory</th><th>Disks / networks</th><th></th></tr>
                ${vms.map((v) => html`<${VmRow} key=${v.name} d=${d} v=${v} act=${act} openConsole=${openConsole} />`)}
              </table>`
            : html`<p class="muted">No VMs yet.</p>`}<//>
        ${actionError && html`<${Msg} kind="error" text=${actionError} />`}
      </section>
      ${open && openVm && html`<${DetailsPanel} key=${open.vm} d=${d} v=${openVm} open=${open} go=${(t: Tab) => openConsole({ vm: open.vm, kind: t })} close=${() => openConsole(null)} />`}
      <section class="card" id="wizard-panel">
        <h2>New VM</h2>
        ${data.networks && !data.networks.ok && html`<${Msg} kind="error" text=${`The networks could not be read (a new VM can only have no NIC): ${data.networks.error}`} />`}
        ${data.volumes && !data.volumes.ok && html`<${Msg} kind="error" text=${`The volumes could not be read (no ISO to pick): ${data.volumes.error}`} />`}
        <${Wizard} d=${d} data=${data} created=${reload} />
      </section>
      <${Storage} d=${d} data=${data} act=${act} reload=${reload} />
    </div>`;
}

/** The VMs page, mounted in a new element; it unmounts when `d.signal` aborts. */
export async function vmsView(d: VmsDeps): Promise<HTMLElement> {
  const el = document.createElement("div");
  render(html`<${VmsPage} d=${d} />`, el);
  d.signal.addEventListener("abort", () => unmount(el), { once: true });
  return el;
}
