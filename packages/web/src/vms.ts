/**
 * @module vms
 * The VMs page of the web UI: the VM list with live state and power actions, a create
 * form (name, vCPUs, memory, a new disk, an ISO, a network, firmware, autostart), the
 * storage pool with ISO upload, and the serial console and the VNC display of a running
 * VM over the API's WebSockets (the session token travels as the `qx-auth.<token>`
 * subprotocol, as a browser cannot set headers on a WebSocket). The display viewer
 * (noVNC, web/vnc) is a separate script loaded the first time a display is opened.
 * A console whose box left the page is closed. Every value is put in the page as text.
 * app.ts passes its helpers in, so this module has no globals of its own.
 */
import { confirmAction } from "./dialog.ts";
import type { QxVnc } from "./vnc.ts";

type Json = Record<string, unknown>;
type Child = Node | string | null | undefined | false;

export interface VmsDeps {
  h(tag: string, attrs?: Record<string, unknown>, ...children: Child[]): HTMLElement;
  api<T = Json>(method: string, path: string, body?: unknown): Promise<T>;
  msg(kind: "error" | "info" | "warn", text: string): HTMLElement;
  errText(e: unknown): string;
  bytes(n: number): string;
  /** Re-renders this page. */
  refresh(): void;
  token(): string;
  /** Registers an interval to clear when the page is left. */
  every(ms: number, f: () => void): void;
}

interface Vm {
  name: string;
  state: string;
  vcpus: number;
  memory_mib: number;
  autostart: boolean;
  firmware: string;
  disks: { volume: string | null }[];
  nics: { network: string | null; vlan: number | null }[];
}
interface Volume {
  name: string;
  capacity_bytes: number;
  allocation_bytes: number;
  format: string;
  used_by: string[];
}

/** The WebSocket URL of a VM's `console` or `vnc` and the subprotocols that carry the token. */
function wsTarget(d: VmsDeps, name: string, kind: "console" | "vnc"): [string, string[]] {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  return [`${proto}//${location.host}/api/v1/vms/${encodeURIComponent(name)}/${kind}`, ["qx-console", `qx-auth.${d.token()}`]];
}

/** Calls `close` once `box` is no longer in the page (the page re-rendered or was left). */
function closeWhenGone(box: HTMLElement, close: () => void): void {
  const timer = window.setInterval(() => {
    if (box.isConnected) return;
    window.clearInterval(timer);
    close();
  }, 1000);
}

let vncScript: Promise<QxVnc> | null = null;
/** Loads /vnc.js (noVNC) once. */
function loadVnc(): Promise<QxVnc> {
  vncScript ??= new Promise<QxVnc>((resolve, reject) => {
    const s = document.createElement("script");
    s.src = "/vnc.js";
    s.onload = () => {
      const v = (window as unknown as { qxVnc?: QxVnc }).qxVnc;
      if (v) resolve(v);
      else reject(new Error("the VNC viewer did not load"));
    };
    s.onerror = () => {
      vncScript = null;
      reject(new Error("could not load the VNC viewer (/vnc.js)"));
    };
    document.head.append(s);
  });
  return vncScript;
}

/** The VNC display of `name`, scaled into the box; keys and mouse go to the VM. */
function vncBox(d: VmsDeps, name: string): HTMLElement {
  const screen = d.h("div", { class: "vnc-screen", id: "vm-vnc" });
  const status = d.h("div", { class: "muted", id: "vm-vnc-status", "data-status": "connecting" }, `connecting to the display of ${name}…`);
  const buttons = d.h("div", { class: "row" });
  const box = d.h("div", { class: "card" }, d.h("h2", {}, `Display: ${name}`), status, screen, buttons);
  const show = (state: string, text: string) => {
    status.textContent = text;
    status.setAttribute("data-status", state);
    status.className = state === "error" ? "bad" : "muted";
  };
  loadVnc().then(
    (vnc) => {
      const [url, protocols] = wsTarget(d, name, "vnc");
      const viewer = vnc.open(screen, url, protocols, show);
      buttons.append(
        d.h("button", { class: "secondary", onclick: () => viewer.ctrlAltDel() }, "Send Ctrl+Alt+Del"),
        d.h("button", { class: "secondary", onclick: () => viewer.disconnect() }, "Disconnect"),
      );
      closeWhenGone(box, () => viewer.disconnect());
    },
    (e: unknown) => show("error", d.errText(e)),
  );
  return box;
}

/** The serial console of `name` in a <pre>; typed keys go to the guest. */
function consoleBox(d: VmsDeps, name: string): HTMLElement {
  const out = d.h("pre", { class: "log", id: "vm-console", tabindex: "0" });
  const status = d.h("div", { class: "muted" }, `connecting to ${name}…`);
  const ws = new WebSocket(...wsTarget(d, name, "console"));
  ws.binaryType = "arraybuffer";
  const decoder = new TextDecoder();
  ws.onopen = () => {
    status.textContent = `connected to the serial console of ${name} (click here and type)`;
    out.focus();
  };
  ws.onmessage = (ev) => {
    out.textContent = (out.textContent + decoder.decode(ev.data as ArrayBuffer, { stream: true })).slice(-20_000);
    out.scrollTop = out.scrollHeight;
  };
  ws.onclose = () => {
    status.textContent = "console closed";
  };
  out.addEventListener("keydown", (ev) => {
    const key = ev.key === "Enter" ? "\r" : ev.key === "Backspace" ? "\x7f" : ev.key === "Tab" ? "\t" : ev.key.length === 1 ? ev.key : "";
    if (!key || ws.readyState !== WebSocket.OPEN) return;
    ev.preventDefault();
    ws.send(new TextEncoder().encode(ev.ctrlKey && key.length === 1 ? String.fromCharCode(key.toUpperCase().charCodeAt(0) - 64) : key));
  });
  const box = d.h("div", { class: "card" }, d.h("h2", {}, `Console: ${name}`), status, out, d.h("button", { class: "secondary", onclick: () => ws.close() }, "Disconnect"));
  closeWhenGone(box, () => ws.close());
  return box;
}

function fragment(...nodes: Node[]): DocumentFragment {
  const f = document.createDocumentFragment();
  f.append(...nodes);
  return f;
}

/** The `message` of an API error answer, or a generic text. */
function errorOf(text: string, status: number): string {
  try {
    return String((JSON.parse(text) as Json)["message"]);
  } catch {
    return `upload failed: HTTP ${status}`;
  }
}

/** Renders the VMs page. */
export async function vmsView(d: VmsDeps): Promise<HTMLElement> {
  const { h } = d;
  // Each call on its own: one that fails (libvirtd down, /data not mounted) says so in
  // its panel, and the rest of the page works.
  const failed: Record<string, string> = {};
  const get = <T>(key: string, path: string, empty: T) =>
    d.api<T>("GET", path).catch((e: unknown) => {
      failed[key] = d.errText(e);
      return empty;
    });
  const [vmList, vols, pool, nets] = await Promise.all([
    get<{ vms: Vm[] }>("vms", "/api/v1/vms", { vms: [] }),
    get<{ volumes: Volume[] }>("volumes", "/api/v1/storage/volumes", { volumes: [] }),
    get<Json | null>("pool", "/api/v1/storage", null),
    get<{ networks: { name: string; bridge: string; vlan?: number }[] }>("networks", "/api/v1/networks", { networks: [] }),
  ]);
  const problem = (key: string, what: string) => (failed[key] ? d.msg("error", `${what}: ${failed[key]}`) : null);
  const out = h("div");
  const consoleSlot = h("div");
  const act = (f: () => Promise<unknown>) => async () => {
    out.replaceChildren();
    try {
      await f();
      d.refresh();
    } catch (e) {
      out.append(d.msg("error", d.errText(e)));
    }
  };
  const enc = encodeURIComponent;
  const running = (v: Vm) => v.state === "running" || v.state === "paused";
  const table = h(
    "table",
    { id: "vm-table" },
    h("tr", {}, h("th", {}, "VM"), h("th", {}, "State"), h("th", {}, "CPU / memory"), h("th", {}, "Disks / networks"), h("th", {}, "")),
    ...vmList.vms.map((v) =>
      h(
        "tr",
        { "data-vm": v.name },
        h("td", {}, h("strong", {}, v.name), v.autostart ? h("div", { class: "muted" }, "starts with the node") : null),
        h("td", { class: v.state === "running" ? "ok" : v.state === "shutoff" ? "muted" : "bad", "data-state": v.state }, v.state),
        h("td", {}, `${v.vcpus} vCPU, ${v.memory_mib} MiB, ${v.firmware}`),
        h("td", {}, v.disks.map((x) => x.volume ?? "?").join(", ") || "no disk", h("div", { class: "muted" }, v.nics.map((n) => `${n.network ?? "?"}${n.vlan ? ` (VLAN ${n.vlan})` : ""}`).join(", "))),
        h(
          "td",
          {},
          running(v)
            ? fragment(
                h("button", { class: "secondary", onclick: act(() => d.api("POST", `/api/v1/vms/${enc(v.name)}/shutdown`)) }, "Shut down"),
                h("button", { class: "secondary", onclick: act(() => d.api("POST", `/api/v1/vms/${enc(v.name)}/reboot`)) }, "Reboot"),
                h("button", {
                  class: "danger",
                  onclick: act(async () => {
                    const r = await confirmAction({ title: `Force VM ${v.name} off?`, what: "Like pulling the plug: the guest gets no chance to shut down, and what it had not written to disk is lost. Shut down asks the guest instead.", confirm: "Force off" });
                    if (r.confirmed) await d.api("POST", `/api/v1/vms/${enc(v.name)}/force-off`);
                  }),
                }, "Force off"),
                h("button", { class: "secondary", onclick: () => consoleSlot.replaceChildren(consoleBox(d, v.name)) }, "Console"),
                h("button", { class: "secondary", "data-action": "display", onclick: () => consoleSlot.replaceChildren(vncBox(d, v.name)) }, "Display"),
              )
            : h("button", { class: "primary", "data-action": "start", onclick: act(() => d.api("POST", `/api/v1/vms/${enc(v.name)}/start`)) }, "Start"),
          h(
            "button",
            {
              class: "danger",
              onclick: act(async () => {
                const disks = v.disks.map((x) => x.volume).filter(Boolean).join(", ");
                const r = await confirmAction({
                  title: `Delete VM ${v.name}?`,
                  what: `Its definition is removed${running(v) ? "; it is running and is powered off first (no clean shutdown)" : ""}. ${disks ? `Its disks (${disks}) are kept unless you tick the box; ISOs are never deleted.` : "It has no disk."}`,
                  confirm: "Delete VM",
                  ...(disks ? { option: `Also delete its disks (${disks})` } : {}),
                });
                if (!r.confirmed) return;
                await d.api("DELETE", `/api/v1/vms/${enc(v.name)}?force=${running(v)}&delete_disks=${r.option}`);
              }),
            },
            "Delete",
          ),
        ),
      ),
    ),
  );
  const isos = vols.volumes.filter((v) => v.format === "iso");
  const form = h(
    "form",
    { class: "row", id: "vm-create" },
    h("label", {}, "Name", h("input", { name: "name", required: true, pattern: "[A-Za-z0-9][A-Za-z0-9_.\\-]{0,62}" })),
    h("label", {}, "vCPUs", h("input", { name: "vcpus", type: "number", min: 1, max: 256, value: 1 })),
    h("label", {}, "Memory (MiB)", h("input", { name: "memory", type: "number", min: 16, value: 1024 })),
    h("label", {}, "New disk (GiB, 0 = none)", h("input", { name: "disk", type: "number", min: 0, value: 20 })),
    h("label", {}, "ISO", h("select", { name: "iso" }, h("option", { value: "" }, "none"), ...isos.map((i) => h("option", { value: i.name }, i.name)))),
    h("label", {}, "Network", h("select", { name: "network" }, h("option", { value: "" }, "none"), ...nets.networks.map((n) => h("option", { value: n.name }, `${n.name}${n.vlan ? ` (VLAN ${n.vlan})` : ""}`)))),
    h("label", {}, "Firmware", h("select", { name: "firmware" }, h("option", { value: "bios" }, "BIOS"), h("option", { value: "uefi" }, "UEFI"))),
    h("label", {}, "Autostart", h("input", { name: "autostart", type: "checkbox" })),
    h("button", { class: "primary", type: "submit" }, "Create and start"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const f = new FormData(form as HTMLFormElement);
    const name = String(f.get("name") ?? "").trim();
    const diskGib = Number(f.get("disk") ?? 0);
    const spec: Json = {
      name,
      vcpus: Number(f.get("vcpus")),
      memory_mib: Number(f.get("memory")),
      firmware: String(f.get("firmware")),
      autostart: f.get("autostart") === "on",
      disks: diskGib > 0 ? [{ volume: `${name}-disk0`, size_mib: Math.round(diskGib * 1024) }] : [],
      nics: f.get("network") ? [{ network: String(f.get("network")) }] : [],
      start: true,
    };
    if (f.get("iso")) {
      spec["cdrom"] = String(f.get("iso"));
      spec["boot"] = ["cdrom", "disk"];
    }
    void act(() => d.api("POST", "/api/v1/vms", spec))();
  });
  const upload = h("input", { type: "file", id: "iso-upload", accept: ".iso,application/octet-stream" }) as HTMLInputElement;
  const progress = h("progress", { max: 100, value: 0, hidden: true }) as HTMLProgressElement;
  upload.addEventListener("change", () => {
    const file = upload.files?.[0];
    if (!file) return;
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", `/api/v1/storage/volumes/${enc(file.name)}/content`);
    xhr.setRequestHeader("authorization", `Bearer ${d.token()}`);
    xhr.setRequestHeader("content-type", "application/octet-stream");
    progress.hidden = false;
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) progress.value = Math.round((100 * e.loaded) / e.total);
    };
    xhr.onload = () => {
      if (xhr.status === 201) d.refresh();
      else out.replaceChildren(d.msg("error", errorOf(xhr.responseText, xhr.status)));
    };
    xhr.onerror = () => out.replaceChildren(d.msg("error", "upload failed: connection lost"));
    xhr.send(file);
  });
  d.every(5000, () => {
    void d.api<{ vms: Vm[] }>("GET", "/api/v1/vms").then((r) => {
      for (const v of r.vms) {
        const cell = table.querySelector(`tr[data-vm="${CSS.escape(v.name)}"] td[data-state]`);
        if (cell && cell.textContent !== v.state) d.refresh();
      }
    }, () => undefined);
  });
  return h(
    "div",
    {},
    h("section", { class: "card", id: "vms-panel" }, h("h2", {}, "Virtual machines"), problem("vms", "The VMs could not be listed") ?? (vmList.vms.length ? table : h("p", { class: "muted" }, "No VMs yet.")), out),
    consoleSlot,
    h("section", { class: "card" }, h("h2", {}, "New VM"), problem("networks", "The networks could not be read (a new VM can only have no NIC)"), problem("volumes", "The volumes could not be read (no ISO to pick)"), form),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "Storage"),
      pool
        ? h("p", {}, `${String(pool["path"])} (${String(pool["filesystem"])}): ${d.bytes(Number(pool["available_bytes"]))} free of ${d.bytes(Number(pool["capacity_bytes"]))}; volumes provisioned ${d.bytes(Number(pool["provisioned_bytes"]))}`)
        : problem("pool", "The storage pool could not be read"),
      problem("volumes", "The volumes could not be listed"),
      h(
        "table",
        {},
        h("tr", {}, h("th", {}, "Volume"), h("th", {}, "Size"), h("th", {}, "Allocated"), h("th", {}, "Used by"), h("th", {}, "")),
        ...vols.volumes.map((v) =>
          h(
            "tr",
            {},
            h("td", {}, v.name),
            h("td", {}, d.bytes(v.capacity_bytes)),
            h("td", {}, d.bytes(v.allocation_bytes)),
            h("td", {}, v.used_by.join(", ") || "—"),
            h("td", {}, v.used_by.length ? null : h("button", {
              class: "secondary",
              "data-delete-volume": v.name,
              onclick: act(async () => {
                const r = await confirmAction({ title: `Delete volume ${v.name}?`, what: `Its ${d.bytes(v.capacity_bytes)} are deleted from /data for good; no VM uses it.`, confirm: "Delete volume" });
                if (r.confirmed) await d.api("DELETE", `/api/v1/storage/volumes/${enc(v.name)}`);
              }),
            }, "Delete")),
          ),
        ),
      ),
      h("div", { class: "row" }, h("label", {}, "Upload an ISO", upload), progress),
    ),
  );
}
