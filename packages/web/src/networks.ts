/**
 * @module networks
 * The Network page's VM switching, in Preact (web/ui): the Open vSwitch bridges of
 * network.yaml (uplinks, datapath, whether Open vSwitch has them, their ports) and the
 * VM networks on them (VLAN, the VMs using each), with forms to add either and a
 * confirmation before deleting one. The bridge that carries the management address
 * (`management.bridge`, vmbr0 on a fresh node) is marked and cannot be deleted; a
 * network in use by a VM cannot either (the API answers 409 with the reason, shown in
 * the panel). These edits take effect at once: none of them can cut the way to the
 * node (the management port is never an uplink of another bridge, network.yaml's
 * schema refuses it), so only the management network's own changes run on trial.
 *
 * @example
 * ```ts
 * container.append(networksPanel({ api, errText, signal }));
 * ```
 */
import { confirmAction } from "./dialog.ts";
import { html, render, unmount, useCallback, useEffect, useState } from "./ui.ts";

type Json = Record<string, unknown>;

export interface NetworksDeps {
  api<T = Json>(method: string, path: string, body?: unknown): Promise<T>;
  errText(e: unknown): string;
  /** Aborted when the page goes: the panel unmounts. */
  signal: AbortSignal;
}

interface Bridge {
  name: string;
  uplinks: string[];
  datapath: "system" | "netdev";
  present: boolean | null;
  ports: string[];
}
interface VmNetwork {
  name: string;
  bridge: string;
  vlan?: number;
  vms: string[];
}
interface Listing {
  bridges: Bridge[];
  networks: VmNetwork[];
  config_error: string | null;
  ovs_error: string | null;
}
interface Nic {
  name: string;
}

const NAME_RE = /^[a-z][a-z0-9_-]{0,14}$/;
const NAME_RULE = "1-15 lowercase letters, digits, '-' or '_', starting with a letter";
const enc = encodeURIComponent;

/** Why a new bridge or network cannot be added as typed, or null (the API checks again). */
export function nameProblem(name: string, taken: readonly string[], what: string): string | null {
  if (!NAME_RE.test(name)) return `The ${what} name must be ${NAME_RULE}.`;
  if (taken.includes(name)) return `There is already a ${what} named ${name}.`;
  return null;
}

function Msg({ kind, text }: { kind: "error" | "info"; text: string }) {
  return html`<div class=${`msg ${kind}`} role=${kind === "error" ? "alert" : "status"}>${text}</div>`;
}

function Networks({ d }: { d: NetworksDeps }) {
  const [list, setList] = useState<Listing | null>(null);
  const [loadError, setLoadError] = useState("");
  const [mgmtBridge, setMgmtBridge] = useState<string | null>(null);
  const [mgmtPort, setMgmtPort] = useState<string | null>(null);
  const [nics, setNics] = useState<string[]>([]);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const reload = useCallback(() => {
    d.api<Listing>("GET", "/api/v1/networks").then(
      (l) => {
        setList(l);
        setLoadError("");
      },
      (e: unknown) => setLoadError(d.errText(e)),
    );
    d.api<{ config: { management?: { bridge?: string } } | null; applied: { base?: string | null } | null }>("GET", "/api/v1/network").then(
      (n) => {
        setMgmtBridge(n.config?.management?.bridge ?? null);
        setMgmtPort(n.applied?.base ?? null);
      },
      () => undefined,
    );
  }, []);
  useEffect(() => {
    reload();
    d.api<{ interfaces: Nic[] }>("GET", "/api/v1/network/interfaces").then(
      (r) => setNics(r.interfaces.map((i) => i.name)),
      () => undefined,
    );
    const timer = window.setInterval(reload, 10_000);
    return () => window.clearInterval(timer);
  }, []);
  const act = async (f: () => Promise<unknown>, ok: string) => {
    setError("");
    setDone("");
    try {
      await f();
      setDone(ok);
    } catch (e) {
      setError(d.errText(e));
    }
    reload();
  };

  const [bridge, setBridge] = useState({ name: "", uplink: "", datapath: "system" });
  const [net, setNet] = useState({ name: "", bridge: "", vlan: "" });
  const bridges = list?.bridges ?? [];
  const networks = list?.networks ?? [];
  // Ports a new bridge cannot take: uplinks of a bridge already, and the management port
  // while it is on its own bridge (network.yaml's schema refuses both).
  const taken = new Set([...bridges.flatMap((b) => b.uplinks), ...(mgmtBridge && mgmtPort ? [mgmtPort] : [])]);

  const addBridge = (ev: Event) => {
    ev.preventDefault();
    const problem = nameProblem(bridge.name, bridges.map((b) => b.name), "bridge");
    if (problem) return setError(problem);
    void act(
      () => d.api("POST", "/api/v1/networks/bridges", { name: bridge.name, uplinks: bridge.uplink ? [bridge.uplink] : [], datapath: bridge.datapath }),
      `Bridge ${bridge.name} added.`,
    ).then(() => setBridge({ name: "", uplink: "", datapath: "system" }));
  };
  const addNetwork = (ev: Event) => {
    ev.preventDefault();
    const problem = nameProblem(net.name, networks.map((n) => n.name), "network");
    if (problem) return setError(problem);
    const on = net.bridge || bridges[0]?.name || "";
    if (!on) return setError("Add a bridge first: a VM network lives on one.");
    const vlan = net.vlan.trim() === "" ? undefined : Number(net.vlan);
    if (vlan !== undefined && !(Number.isInteger(vlan) && vlan >= 1 && vlan <= 4094)) return setError("The VLAN must be a number from 1 to 4094, or empty for untagged.");
    void act(() => d.api("POST", "/api/v1/networks", { name: net.name, bridge: on, ...(vlan !== undefined ? { vlan } : {}) }), `Network ${net.name} added on ${on}.`).then(() =>
      setNet({ name: "", bridge: "", vlan: "" }),
    );
  };
  const removeBridge = async (b: Bridge) => {
    const r = await confirmAction({
      title: `Delete bridge ${b.name}?`,
      what: `Open vSwitch removes the bridge${b.uplinks.length ? ` and its uplinks (${b.uplinks.join(", ")})` : ""}. Only a bridge that carries no VM network can go.`,
      confirm: "Delete the bridge",
    });
    if (r.confirmed) await act(() => d.api("DELETE", `/api/v1/networks/bridges/${enc(b.name)}`), `Bridge ${b.name} deleted.`);
  };
  const removeNetwork = async (n: VmNetwork) => {
    const r = await confirmAction({ title: `Delete network ${n.name}?`, what: `VMs can no longer be given a NIC on ${n.name}. Only a network no VM uses can go.`, confirm: "Delete the network" });
    if (r.confirmed) await act(() => d.api("DELETE", `/api/v1/networks/${enc(n.name)}`), `Network ${n.name} deleted.`);
  };

  if (list === null) {
    return html`<section class="card" id="networks-panel"><h2>VM networks</h2>
      ${loadError ? html`<${Msg} kind="error" text=${`The bridges and networks could not be read: ${loadError}`} />` : html`<p class="muted loading" aria-busy="true"><span class="spinner"></span> Loading…</p>`}</section>`;
  }
  return html`
    <section class="card" id="networks-panel">
      <h2>VM networks</h2>
      ${list.config_error && html`<${Msg} kind="error" text=${`network.yaml: ${list.config_error} (the last good copy is in force)`} />`}
      ${list.ovs_error && html`<${Msg} kind="error" text=${`Open vSwitch: ${list.ovs_error}`} />`}
      ${loadError && html`<${Msg} kind="error" text=${`Reading again failed: ${loadError}`} />`}
      <h3>Bridges</h3>
      ${bridges.length
        ? html`<table id="bridge-table">
            <tr><th>Bridge</th><th>Uplinks</th><th>Datapath</th><th>In Open vSwitch</th><th>Ports</th><th></th></tr>
            ${bridges.map((b) => {
              const mgmt = b.name === mgmtBridge;
              const carries = networks.filter((n) => n.bridge === b.name).map((n) => n.name);
              const why = mgmt ? "It carries the management network." : carries.length ? `It carries ${carries.join(", ")}.` : "";
              return html`<tr data-bridge=${b.name} key=${b.name}>
                <td>${b.name}${mgmt && html` <span class="badge" title="management.bridge in network.yaml">management</span>`}</td>
                <td>${b.uplinks.join(", ") || html`<span class="muted">none</span>`}</td>
                <td>${b.datapath}</td>
                <td class=${b.present === false ? "bad" : ""}>${b.present === null ? "unknown" : b.present ? "yes" : "missing (reconcile)"}</td>
                <td title=${b.ports.join(" ")}>${b.ports.length}</td>
                <td><button class="secondary" data-delete-bridge=${b.name} disabled=${Boolean(why)} title=${why || `Delete ${b.name}`} onClick=${() => void removeBridge(b)}>Delete</button></td>
              </tr>`;
            })}
          </table>`
        : html`<p class="muted">No bridges: VMs can have no NIC. Add one below.</p>`}
      <form id="bridge-add" class="row" onSubmit=${addBridge}>
        <label>Name<input name="name" value=${bridge.name} placeholder="vmbr1" onInput=${(e: Event) => setBridge({ ...bridge, name: (e.target as HTMLInputElement).value.trim() })} /></label>
        <label>Uplink<select name="uplink" value=${bridge.uplink} onChange=${(e: Event) => setBridge({ ...bridge, uplink: (e.target as HTMLSelectElement).value })}>
          <option value="">none (VMs on it talk to each other only)</option>
          ${nics.filter((n) => !taken.has(n)).map((n) => html`<option value=${n}>${n}</option>`)}
        </select></label>
        <label>Datapath<select name="datapath" value=${bridge.datapath} onChange=${(e: Event) => setBridge({ ...bridge, datapath: (e.target as HTMLSelectElement).value })}>
          <option value="system">system (kernel)</option><option value="netdev">netdev (userspace)</option>
        </select></label>
        <button class="primary" type="submit">Add bridge</button>
      </form>
      <h3>Networks</h3>
      ${networks.length
        ? html`<table id="network-table">
            <tr><th>Network</th><th>Bridge</th><th>VLAN</th><th>VMs</th><th></th></tr>
            ${networks.map(
              (n) => html`<tr data-network=${n.name} key=${n.name}>
                <td>${n.name}</td><td>${n.bridge}</td><td>${n.vlan ?? html`<span class="muted">untagged</span>`}</td>
                <td>${n.vms.join(", ") || html`<span class="muted">none</span>`}</td>
                <td><button class="secondary" data-delete-network=${n.name} disabled=${n.vms.length > 0} title=${n.vms.length ? `Used by ${n.vms.join(", ")}` : `Delete ${n.name}`} onClick=${() => void removeNetwork(n)}>Delete</button></td>
              </tr>`,
            )}
          </table>`
        : html`<p class="muted">No VM networks yet.</p>`}
      <form id="network-add" class="row" onSubmit=${addNetwork}>
        <label>Name<input name="name" value=${net.name} placeholder="dmz" onInput=${(e: Event) => setNet({ ...net, name: (e.target as HTMLInputElement).value.trim() })} /></label>
        <label>Bridge<select name="bridge" value=${net.bridge || bridges[0]?.name || ""} onChange=${(e: Event) => setNet({ ...net, bridge: (e.target as HTMLSelectElement).value })}>
          ${bridges.map((b) => html`<option value=${b.name}>${b.name}</option>`)}
        </select></label>
        <label>VLAN<input name="vlan" inputmode="numeric" value=${net.vlan} placeholder="untagged" onInput=${(e: Event) => setNet({ ...net, vlan: (e.target as HTMLInputElement).value })} /></label>
        <button class="primary" type="submit">Add network</button>
      </form>
      ${error && html`<${Msg} kind="error" text=${error} />`}
      ${done && html`<${Msg} kind="info" text=${done} />`}
    </section>`;
}

/** The panel, mounted in a new element; it unmounts when `d.signal` aborts. */
export function networksPanel(d: NetworksDeps): HTMLElement {
  const el = document.createElement("div");
  render(html`<${Networks} d=${d} />`, el);
  d.signal.addEventListener("abort", () => unmount(el), { once: true });
  return el;
}
