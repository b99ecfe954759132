/**
 * @module app
 * The Quantix-OS node web UI: one page. The VMs page is Preact components (web/ui);
 * the other views are still built with the small `h()` helper below. It talks to the node's API with
 * a session token kept in sessionStorage and sent as `Authorization: Bearer` (no
 * cookies, so no CSRF). Every value from the API is put in the page as text, never as
 * HTML.
 */

import { vmsView } from "./vms.ts";
import { activityView } from "./activity.ts";
import { chartsPanel } from "./charts.ts";
import { confirmAction } from "./dialog.ts";
import { networksPanel } from "./networks.ts";
import { readEvents } from "./sse.ts";

type Json = Record<string, unknown>;
type Child = Node | string | null | undefined | false;

const TOKEN_KEY = "qx.session";
/** The device token of the last login from this browser (services/device-trust): kept across sessions. */
const DEVICE_KEY = "qx.device";
const app = document.getElementById("app") as HTMLElement;

/** Creates an element; `on*` attributes become listeners, the rest attributes. */
function h(tag: string, attrs: Record<string, unknown> = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (k === "value") (el as HTMLInputElement).value = String(v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["authorization"] = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = (await res.json().catch(() => ({}))) as Json;
  if (res.status === 401 && path !== "/api/v1/auth/login") {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("Your session ended; log in again.");
    throw new ApiError(401, String(data["message"] ?? "unauthorized"));
  }
  if (!res.ok) throw new ApiError(res.status, String(data["message"] ?? `HTTP ${res.status}`));
  return data as T;
}

const msg = (kind: "error" | "info" | "warn", text: string) => h("div", { class: `msg ${kind}`, role: kind === "error" ? "alert" : "status" }, text);
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

function bytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function duration(s: number): string {
  const d = Math.floor(s / 86400);
  const hh = Math.floor((s % 86400) / 3600);
  const mm = Math.floor((s % 3600) / 60);
  return `${d ? `${d}d ` : ""}${hh}h ${mm}m`;
}

// ---- login ------------------------------------------------------------------

function showLogin(note?: string): void {
  stopTimers();
  const user = h("input", { id: "login-user", name: "username", value: "admin", autocomplete: "username", required: true });
  const pass = h("input", { id: "login-password", name: "password", type: "password", autocomplete: "current-password", required: true });
  const out = h("div");
  const form = h(
    "form",
    {
      class: "card login",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        out.replaceChildren();
        try {
          const device = localStorage.getItem(DEVICE_KEY);
          const r = await api<{ token: string; device: string }>("POST", "/api/v1/auth/login", {
            username: (user as HTMLInputElement).value,
            password: (pass as HTMLInputElement).value,
            ...(device ? { device } : {}),
          });
          sessionStorage.setItem(TOKEN_KEY, r.token);
          localStorage.setItem(DEVICE_KEY, r.device);
          showShell();
        } catch (e) {
          out.append(msg("error", errText(e)));
        }
      },
    },
    h("h2", {}, "Quantix-OS — log in"),
    note ? msg("info", note) : null,
    h("label", {}, "User", user),
    h("label", {}, "Password", pass),
    h("div", { class: "row" }, h("button", { class: "primary", id: "login-submit", type: "submit" }, "Log in")),
    out,
    h("p", { class: "muted" }, "First boot: the password is shown on the node's console (or set it there)."),
  );
  app.replaceChildren(form);
  (pass as HTMLInputElement).focus();
}

// ---- theme ------------------------------------------------------------------

const THEME_KEY = "qx.theme";
const THEMES = ["auto", "light", "dark"] as const;
type Theme = (typeof THEMES)[number];
const THEME_TEXT: Record<Theme, string> = { auto: "Theme: system", light: "Theme: light", dark: "Theme: dark" };

function applyTheme(t: Theme): void {
  if (t === "auto") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", t);
}

function currentTheme(): Theme {
  const t = localStorage.getItem(THEME_KEY);
  return (THEMES as readonly string[]).includes(t ?? "") ? (t as Theme) : "auto";
}

/** The header's button: system, light, dark in turn, kept in this browser. */
function themeToggle(): HTMLElement {
  const b = h("button", { class: "secondary", id: "theme", "aria-label": "Colour theme" }, THEME_TEXT[currentTheme()]);
  b.addEventListener("click", () => {
    const next = THEMES[(THEMES.indexOf(currentTheme()) + 1) % THEMES.length] ?? "auto";
    localStorage.setItem(THEME_KEY, next);
    applyTheme(next);
    b.textContent = THEME_TEXT[next];
  });
  return b;
}
applyTheme(currentTheme());

// ---- shell ------------------------------------------------------------------

const VIEWS: Record<string, () => Promise<HTMLElement>> = {
  Dashboard: dashboard,
  VMs: () =>
    vmsView({
      api,
      errText,
      bytes,
      token: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
      signal: pageSignal(),
    }),
  Activity: () =>
    activityView({
      h,
      api,
      msg,
      errText,
      token: () => sessionStorage.getItem(TOKEN_KEY) ?? "",
      signal: pageSignal(),
    }),
  Network: network,
  Services: services,
  Logs: logs,
  Update: update,
  Access: access,
  Power: powerView,
};
let timers: number[] = [];
let stream: AbortController | null = null;
let page = new AbortController();
/** Aborted when the current page is left (its streams end with it). */
const pageSignal = () => page.signal;
function stopTimers(): void {
  for (const t of timers) clearInterval(t);
  timers = [];
  stream?.abort();
  stream = null;
  page.abort();
  page = new AbortController();
}

/** The view a URL names: `#/vms` is VMs; anything else is the dashboard. */
function viewFromHash(hash = location.hash): string {
  const want = hash.replace(/^#\/?/, "").split("/")[0]?.toLowerCase() ?? "";
  return Object.keys(VIEWS).find((v) => v.toLowerCase() === want) ?? "Dashboard";
}
const hashOf = (view: string) => `#/${view.toLowerCase()}`;

// Each view has its own URL: the nav changes the hash (a history entry), and the
// hash shows the view, so reload, back and forward keep the place.
window.addEventListener("hashchange", () => {
  if (sessionStorage.getItem(TOKEN_KEY)) showShell(viewFromHash());
});

function showShell(view = viewFromHash()): void {
  // A deeper URL of the view (`#/vms/web-1/console`) stays for the view to read.
  if (viewFromHash() !== view || !location.hash.startsWith(hashOf(view))) history.replaceState(null, "", hashOf(view));
  stopTimers();
  const main = h("main");
  const nav = h("nav");
  for (const name of Object.keys(VIEWS)) {
    nav.append(
      h("button", {
        class: name === view ? "active" : "",
        "data-view": name,
        "aria-current": name === view ? "page" : false,
        onclick: () => {
          if (location.hash === hashOf(name)) showShell(name);
          else location.hash = hashOf(name);
        },
      }, name),
    );
  }
  const logout = h("button", {
    class: "secondary",
    id: "logout",
    onclick: async () => {
      await api("DELETE", "/api/v1/auth/session").catch(() => undefined);
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin("Logged out.");
    },
  }, "Log out");
  app.replaceChildren(h("header", {}, h("strong", {}, "Quantix-OS"), nav, h("span", { class: "spacer" }), themeToggle(), logout), main);
  const render = VIEWS[view] ?? dashboard;
  render().then(
    (el) => main.replaceChildren(el),
    (e) => main.replaceChildren(msg("error", errText(e))),
  );
}

// ---- dashboard --------------------------------------------------------------

async function dashboard(): Promise<HTMLElement> {
  const [node, health] = await Promise.all([
    api<Json & { cpu: Json; memory: Json; slot: Json; virtualization: Json; certificate: Json }>("GET", "/api/v1/node"),
    fetch("/api/v1/health").then((r) => r.json() as Promise<Json>).catch(() => null),
  ]);
  const out = h("div");
  const input = h("input", { id: "hostname-input", value: node["hostname"], pattern: "[a-z0-9\\-]{1,63}", required: true });
  const slot = node.slot as { booted: string | null; trying: boolean; live: boolean };
  const v = node.virtualization as { kvm: boolean; iommu: boolean; cpuExtension: string | null };
  const status = health ? String(health["status"]) : "unknown";
  const failing = (health?.["failing"] as string[] | undefined) ?? [];
  return h(
    "div",
    {},
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Node ", h("span", { id: "dash-hostname" }, String(node["hostname"]))),
      h(
        "dl",
        {},
        h("dt", {}, "Health"),
        h("dd", { id: "dash-health", class: status === "healthy" ? "ok" : "bad" }, status + (failing.length ? ` (${failing.join(", ")})` : "")),
        h("dt", {}, "Version"),
        h("dd", {}, String(node["version"] ?? "unknown")),
        h("dt", {}, "Booted slot"),
        h("dd", {}, slot.live ? "live (installer media)" : `${slot.booted ?? "?"}${slot.trying ? " (on trial)" : ""}`),
        h("dt", {}, "Node ID"),
        h("dd", {}, String(node["id"] ?? "not set")),
        h("dt", {}, "Uptime"),
        h("dd", {}, duration(Number(node["uptimeSeconds"]))),
        h("dt", {}, "CPU"),
        h("dd", {}, `${node.cpu["count"]} × ${node.cpu["model"]} — load ${(node.cpu["load"] as number[]).join(" ")}`),
        h("dt", {}, "Memory"),
        h("dd", {}, `${bytes(Number(node.memory["availableBytes"]))} free of ${bytes(Number(node.memory["totalBytes"]))}`),
        h("dt", {}, "Virtualization"),
        h("dd", {}, `KVM ${v.kvm ? "yes" : "no"}, CPU ${v.cpuExtension ?? "no VT-x/AMD-V"}, IOMMU ${v.iommu ? "yes" : "no"}`),
        h("dt", {}, "Certificate SHA-256"),
        h("dd", { id: "dash-fingerprint" }, String(node.certificate["fingerprint"])),
      ),
    ),
    chartsPanel({ api, errText, bytes, signal: pageSignal() }),
    h(
      "form",
      {
        class: "card",
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          out.replaceChildren();
          try {
            await api("PUT", "/api/v1/node", { hostname: (input as HTMLInputElement).value.trim() });
            showShell("Dashboard");
          } catch (e) {
            out.append(msg("error", errText(e)));
          }
        },
      },
      h("h2", {}, "Rename"),
      h("div", { class: "row" }, h("label", {}, "Host name", input), h("button", { class: "primary", id: "rename", type: "submit" }, "Rename")),
      out,
    ),
  );
}

// ---- network ----------------------------------------------------------------

type Trial = { state: string; address: string | null; deadline: string | null; message: string | null };

function trialBox(t: Trial, refresh: () => void): HTMLElement | null {
  if (t.state === "none") return null;
  if (t.state === "applying" || t.state === "pending") {
    const left = t.deadline ? Math.max(0, Math.round((Date.parse(t.deadline) - Date.now()) / 1000)) : 0;
    const ip = t.address?.split("/")[0];
    const here = ip && location.hostname === ip;
    return h(
      "div",
      { class: "msg warn", id: "trial" },
      `Network change on trial (${t.state}); it reverts in ${left} s unless confirmed from the new address. `,
      ip && !here ? h("a", { href: `https://${ip}:${location.port || 443}/` }, `Open https://${ip}:${location.port || 443}/ and confirm there. `) : null,
      h("button", {
        class: "primary",
        id: "confirm-network",
        onclick: async () => {
          try {
            await api("POST", "/api/v1/network/confirm");
          } catch (e) {
            alert(errText(e));
          }
          refresh();
        },
      }, "Confirm"),
    );
  }
  return msg(t.state === "confirmed" ? "info" : "error", `Last change: ${t.state}. ${t.message ?? ""}`);
}

async function network(): Promise<HTMLElement> {
  const data = await api<{ config: { management: Json } | null; configError: string | null; applied: Json | null; trial: Trial }>("GET", "/api/v1/network");
  const m = data.config?.management ?? {};
  const box = h("div");
  const out = h("div");
  const field = (name: string, label: string, value: unknown) => h("label", {}, label, h("input", { name, value: value ?? "" }));
  const mode = h("select", { name: "mode" }, h("option", { value: "dhcp" }, "DHCP"), h("option", { value: "static" }, "Static"));
  (mode as HTMLSelectElement).value = String(m["mode"] ?? "dhcp");
  const refresh = async () => {
    const t = await api<Trial>("GET", "/api/v1/network/trial").catch(() => null);
    box.replaceChildren(...(t ? [trialBox(t, refresh)].filter((x): x is HTMLElement => x !== null) : []));
  };
  void refresh();
  timers.push(window.setInterval(refresh, 2000));
  const form = h(
    "form",
    {
      class: "card",
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        out.replaceChildren();
        const f = new FormData(form as HTMLFormElement);
        const s = (k: string) => String(f.get(k) ?? "").trim();
        const body: Json = { interface: s("interface") || "auto", mode: s("mode") };
        if (s("address")) body["address"] = s("address");
        if (s("gateway")) body["gateway"] = s("gateway");
        if (s("dns")) body["dns"] = s("dns").split(/[\s,]+/).filter(Boolean);
        if (s("vlan")) body["vlan"] = Number(s("vlan"));
        try {
          await api("PUT", "/api/v1/network", body);
          await refresh();
        } catch (e) {
          out.append(msg("error", errText(e)));
        }
      },
    },
    h("h2", {}, "Management network"),
    data.configError ? msg("error", data.configError) : null,
    h(
      "div",
      { class: "row" },
      field("interface", "Interface", m["interface"] ?? "auto"),
      h("label", {}, "Mode", mode),
      field("address", "Address (CIDR)", m["address"]),
      field("gateway", "Gateway", m["gateway"]),
      field("dns", "DNS (comma-separated)", ((m["dns"] as string[] | undefined) ?? []).join(", ")),
      field("vlan", "VLAN", m["vlan"]),
    ),
    h("div", { class: "row" }, h("button", { class: "primary", type: "submit" }, "Apply (try for 120 s)")),
    out,
  );
  const a = data.applied;
  return h(
    "div",
    {},
    box,
    m["bridge"] ? msg("info", `The management port is on the Open vSwitch bridge ${String(m["bridge"])}; the address is on the bridge, shared with the VMs on it (network.yaml's management.bridge).`) : null,
    form,
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Applied now"),
      a
        ? h("dl", {}, ...["interface", "mode", "address", "gateway", "state"].flatMap((k) => [h("dt", {}, k), h("dd", {}, String(a[k] ?? "—"))]), h("dt", {}, "dns"), h("dd", {}, ((a["dns"] as string[]) ?? []).join(", ") || "—"))
        : h("p", { class: "muted" }, "unknown"),
    ),
    networksPanel({ api, errText, signal: pageSignal() }),
  );
}

// ---- services ---------------------------------------------------------------

async function services(): Promise<HTMLElement> {
  const list = await api<{ name: string; description: string; state: string; installed: boolean; enabled: boolean | null; detail: string }[]>("GET", "/api/v1/services");
  const out = h("div");
  const act = (f: () => Promise<unknown>) => async () => {
    out.replaceChildren();
    try {
      await f();
      showShell("Services");
    } catch (e) {
      out.append(msg("error", errText(e)));
    }
  };
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Services"),
    h(
      "table",
      {},
      h("tr", {}, h("th", {}, "Service"), h("th", {}, "State"), h("th", {}, "Detail"), h("th", {}, "")),
      ...list.map((s) =>
        h(
          "tr",
          { "data-service": s.name },
          h("td", {}, h("strong", {}, s.name), h("div", { class: "muted" }, s.description)),
          h("td", { class: s.state === "started" ? "ok" : s.state === "not-installed" ? "muted" : "bad" }, s.state),
          h("td", {}, s.detail),
          h(
            "td",
            {},
            s.installed ? h("button", { class: "secondary", onclick: act(() => api("POST", `/api/v1/services/${s.name}/restart`)) }, "Restart") : null,
            s.name === "ssh"
              ? h("button", { class: "secondary", disabled: !s.installed, onclick: act(() => api("PUT", "/api/v1/services/ssh", { enabled: !s.enabled })) }, s.enabled ? "Disable SSH" : "Enable SSH")
              : null,
          ),
        ),
      ),
    ),
    out,
  );
}

// ---- logs -------------------------------------------------------------------

async function logs(): Promise<HTMLElement> {
  const sources = await api<{ name: string }[]>("GET", "/api/v1/logs");
  const select = h("select", { id: "log-source" }, ...sources.map((s) => h("option", { value: s.name }, s.name)));
  const pre = h("pre", { class: "log", id: "log-lines" });
  const followBtn = h("button", { class: "secondary" }, "Follow");
  const add = (lines: string[]) => {
    pre.append(`${lines.join("\n")}\n`);
    pre.scrollTop = pre.scrollHeight;
  };
  const load = async () => {
    stream?.abort();
    stream = null;
    followBtn.textContent = "Follow";
    const r = await api<{ lines: string[] }>("GET", `/api/v1/logs/${encodeURIComponent((select as HTMLSelectElement).value)}?lines=300`);
    pre.replaceChildren();
    add(r.lines);
  };
  followBtn.addEventListener("click", async () => {
    if (stream) {
      stream.abort();
      stream = null;
      followBtn.textContent = "Follow";
      return;
    }
    const ctl = new AbortController();
    stream = ctl;
    followBtn.textContent = "Stop";
    try {
      await readEvents(`/api/v1/logs/${encodeURIComponent((select as HTMLSelectElement).value)}/follow`, sessionStorage.getItem(TOKEN_KEY) ?? "", ctl.signal, (_type, data) => {
        const lines = (data as { lines?: string[] }).lines;
        if (lines) add(lines);
      });
    } catch (e) {
      if (!ctl.signal.aborted) add([`[follow stopped: ${errText(e)}]`]);
    }
  });
  select.addEventListener("change", () => void load());
  await load();
  return h("section", { class: "card" }, h("h2", {}, "Logs"), h("div", { class: "row" }, h("label", {}, "Source", select), h("button", { class: "secondary", onclick: () => void load() }, "Reload"), followBtn), pre);
}

// ---- update -----------------------------------------------------------------

async function update(): Promise<HTMLElement> {
  const out = h("div");
  let status: HTMLElement;
  try {
    const s = await api<{ booted: string | null; slots: { name: string; state: string; version: string | null }[]; lastRollback: { at: string; reason: string } | null }>("GET", "/api/v1/update");
    status = h(
      "dl",
      {},
      h("dt", {}, "Booted"),
      h("dd", {}, s.booted ?? "?"),
      ...s.slots.flatMap((x) => [h("dt", {}, `Slot ${x.name}`), h("dd", {}, `${x.state} ${x.version ?? ""}`)]),
      h("dt", {}, "Last rollback"),
      h("dd", {}, s.lastRollback ? `${s.lastRollback.at}: ${s.lastRollback.reason}` : "none"),
    );
  } catch (e) {
    status = msg("warn", errText(e));
  }
  const file = h("input", { type: "file", id: "update-file", accept: ".squashfs" }) as HTMLInputElement;
  const sigFile = h("input", { type: "file", id: "update-sig", accept: ".sig" }) as HTMLInputElement;
  const sumFile = h("input", { type: "file", id: "update-sha256", accept: ".sha256" }) as HTMLInputElement;
  const downgrade = h("input", { type: "checkbox", id: "update-downgrade" }) as HTMLInputElement;
  const bar = h("progress", { max: 100, value: 0 }) as HTMLProgressElement;
  const base64 = (buf: ArrayBuffer) => {
    let bin = "";
    for (const b of new Uint8Array(buf)) bin += String.fromCharCode(b);
    return btoa(bin);
  };
  const upload = async () => {
    const f = file.files?.[0];
    out.replaceChildren();
    if (!f) return void out.append(msg("error", "Choose the system image (system-VERSION.squashfs)."));
    const sig = sigFile.files?.[0];
    if (!sig) return void out.append(msg("error", "Choose its signature (system-VERSION.squashfs.sig): unsigned images are refused."));
    const sum = sumFile.files?.[0];
    const sha = sum ? /^[0-9a-fA-F]{64}/.exec((await sum.text()).trim())?.[0] : undefined;
    if (sum && !sha) return void out.append(msg("error", `${sum.name} holds no SHA-256.`));
    if (
      downgrade.checked &&
      !(await confirmAction({ title: `Install ${f.name}?`, what: "It may be older than the running version: the node boots it after the next reboot, and what newer versions changed in the configuration may not be understood.", confirm: "Install it" })).confirmed
    )
      return;
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/v1/update/image${downgrade.checked ? "?allow_downgrade=true" : ""}`);
    xhr.setRequestHeader("authorization", `Bearer ${sessionStorage.getItem(TOKEN_KEY) ?? ""}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    xhr.setRequestHeader("x-qx-image-signature", base64(await sig.arrayBuffer()));
    if (sha) xhr.setRequestHeader("x-qx-image-sha256", sha);
    xhr.upload.onprogress = (ev) => {
      if (ev.lengthComputable) bar.value = (100 * ev.loaded) / ev.total;
    };
    out.append(msg("info", "Uploading and verifying…"));
    xhr.onload = () => {
      let m = `HTTP ${xhr.status}`;
      try {
        m = String((JSON.parse(xhr.responseText) as Json)["message"] ?? m);
      } catch {}
      out.replaceChildren(
        msg(xhr.status < 300 ? "info" : "error", xhr.status < 300 ? "Image installed to the inactive slot; reboot to try it (Power)." : m),
      );
    };
    xhr.onerror = () => out.replaceChildren(msg("error", "upload failed (connection closed)"));
    xhr.send(f);
  };
  const act = (path: string, body?: unknown) => async () => {
    out.replaceChildren();
    try {
      await api("POST", path, body);
      showShell("Update");
    } catch (e) {
      out.append(msg("error", errText(e)));
    }
  };
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "System update"),
    status,
    h(
      "div",
      { class: "row" },
      h("label", {}, "Image (.squashfs)", file),
      h("label", {}, "Signature (.sig)", sigFile),
      h("label", {}, "Checksum (.sha256, optional)", sumFile),
      h("label", {}, downgrade, " allow an older version"),
      h("button", { class: "primary", id: "update-upload", onclick: () => void upload() }, "Upload and install"),
      bar,
    ),
    h(
      "div",
      { class: "row" },
      h("button", { class: "secondary", onclick: act("/api/v1/update/mark-good") }, "Mark running slot good"),
      h(
        "button",
        {
          class: "danger",
          id: "rollback",
          onclick: async () => {
            const r = await confirmAction({ title: "Roll back to the other slot?", what: "The node boots the other system slot at its next reboot (nothing restarts now). The running slot stays as it is and can be chosen again.", confirm: "Roll back" });
            if (r.confirmed) void act("/api/v1/update/rollback", { confirm: true })();
          },
        },
        "Roll back",
      ),
    ),
    out,
  );
}

// ---- access -----------------------------------------------------------------

async function access(): Promise<HTMLElement> {
  const tokens = await api<{ id: string; name: string; scope: string; createdAt: string }[]>("GET", "/api/v1/auth/tokens");
  const out = h("div");
  const name = h("input", { name: "name", required: true }) as HTMLInputElement;
  const scope = h("select", {}, h("option", { value: "read" }, "read"), h("option", { value: "admin" }, "admin")) as HTMLSelectElement;
  const cur = h("input", { type: "password", autocomplete: "current-password" }) as HTMLInputElement;
  const next = h("input", { type: "password", autocomplete: "new-password", minlength: 10 }) as HTMLInputElement;
  const revoke = h("input", { type: "checkbox" }) as HTMLInputElement;
  return h(
    "div",
    {},
    h(
      "section",
      { class: "card" },
      h("h2", {}, "API tokens"),
      h(
        "table",
        {},
        h("tr", {}, h("th", {}, "Name"), h("th", {}, "Scope"), h("th", {}, "Created"), h("th", {}, "")),
        ...tokens.map((t) =>
          h("tr", {}, h("td", {}, t.name), h("td", {}, t.scope), h("td", {}, t.createdAt), h("td", {}, h("button", { class: "secondary", "data-revoke": t.id, onclick: async () => { if (!(await confirmAction({ title: `Revoke the API token "${t.name}"?`, what: "Whatever uses it (scripts, monitoring) is refused from now on. This cannot be undone: a new token has a new secret.", confirm: "Revoke token" })).confirmed) return; await api("DELETE", `/api/v1/auth/tokens/${t.id}`); showShell("Access"); } }, "Revoke"))),
        ),
      ),
      h(
        "form",
        {
          class: "row",
          onsubmit: async (ev: Event) => {
            ev.preventDefault();
            out.replaceChildren();
            try {
              const r = await api<{ token: string }>("POST", "/api/v1/auth/tokens", { name: name.value, scope: scope.value });
              out.append(msg("info", "Copy the token now; it is not shown again:"), h("code", { class: "token" }, r.token));
            } catch (e) {
              out.append(msg("error", errText(e)));
            }
          },
        },
        h("label", {}, "Name", name),
        h("label", {}, "Scope", scope),
        h("button", { class: "primary", type: "submit" }, "Create token"),
        tokens.length > 0
          ? h(
              "button",
              {
                class: "danger",
                type: "button",
                onclick: async () => {
                  if (!(await confirmAction({ title: `Revoke all ${tokens.length} API tokens?`, what: "Every script and monitor using one is refused from now on. Sessions (browser logins) stay.", confirm: "Revoke all tokens" })).confirmed) return;
                  await api("DELETE", "/api/v1/auth/tokens");
                  showShell("Access");
                },
              },
              "Revoke all",
            )
          : null,
      ),
      out,
    ),
    h(
      "form",
      {
        class: "card",
        onsubmit: async (ev: Event) => {
          ev.preventDefault();
          try {
            const r = await api<{ tokensRevoked: number }>("PUT", "/api/v1/auth/password", { current: cur.value, password: next.value, revokeTokens: revoke.checked });
            sessionStorage.removeItem(TOKEN_KEY);
            showLogin(`Password changed; every session ended${revoke.checked ? ` and ${r.tokensRevoked} API token(s) were revoked` : " (API tokens still work)"}. Log in with the new one.`);
          } catch (e) {
            out.append(msg("error", errText(e)));
          }
        },
      },
      h("h2", {}, "Admin password"),
      h("p", { class: "muted" }, "Changing it ends every session, this one too. API tokens are separate credentials and keep working unless you revoke them."),
      h(
        "div",
        { class: "row" },
        h("label", {}, "Current", cur),
        h("label", {}, "New (10+ characters)", next),
        h("label", {}, revoke, " also revoke every API token"),
        h("button", { class: "primary", type: "submit" }, "Change"),
      ),
    ),
  );
}

// ---- power ------------------------------------------------------------------

async function powerView(): Promise<HTMLElement> {
  const node = await api<{ hostname: string }>("GET", "/api/v1/node");
  const out = h("div");
  const confirm = h("input", { placeholder: node.hostname }) as HTMLInputElement;
  const act = (action: string) => async () => {
    out.replaceChildren();
    try {
      await api("POST", "/api/v1/power", { action, confirm: confirm.value.trim() });
      out.append(msg("info", `${action} requested.`));
    } catch (e) {
      out.append(msg("error", errText(e)));
    }
  };
  return h(
    "section",
    { class: "card" },
    h("h2", {}, "Power"),
    h("p", {}, "Type the node's host name (", h("strong", {}, node.hostname), ") to confirm."),
    h("div", { class: "row" }, h("label", {}, "Host name", confirm), h("button", { class: "danger", onclick: act("reboot") }, "Reboot"), h("button", { class: "danger", onclick: act("shutdown") }, "Shut down")),
    out,
  );
}

if (sessionStorage.getItem(TOKEN_KEY)) showShell();
else showLogin();
