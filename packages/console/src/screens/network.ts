/**
 * @module screens/network
 * F2 Configure Network: management interface (with link state), DHCP or static
 * address and gateway, VLAN tag, DNS servers; every field is checked as it is typed.
 * Apply sends `PUT /api/v1/network` (qx-node's try-mode: it reverts by itself after
 * its deadline) and offers to keep the change (`POST /api/v1/network/confirm`).
 */
import type { App, Screen } from "../app.ts";
import { button, choice, Form, text } from "../form.ts";
import { errorText } from "../node-api.ts";
import { optional, required, splitList, vlan } from "../validate.ts";

type ConfigRules = typeof import("../validate-config.ts");

/** One NIC as `GET /api/v1/network/interfaces` lists it. */
export interface Nic {
  readonly name: string;
  readonly link: string;
  readonly carrier: boolean;
  readonly mac: string;
  readonly speedMbps: number | null;
}

/** "up 1000 Mb/s", "down", "up (no carrier)". */
export function linkText(n: Nic): string {
  if (n.link === "up" && !n.carrier) return "up (no carrier)";
  return n.speedMbps && n.link === "up" ? `up ${n.speedMbps} Mb/s` : n.link;
}

interface Trial {
  state: string;
  deadline: string | null;
  address: string | null;
  message: string | null;
}
interface NetworkAnswer {
  config: { management: { interface: string; mode: "dhcp" | "static"; address?: string; gateway?: string; dns?: string[]; vlan?: number } } | null;
  trial: Trial;
}

/** The request body for `PUT /api/v1/network` from the form's values. */
export function managementBody(v: (id: string) => string): Record<string, unknown> {
  const body: Record<string, unknown> = { interface: v("interface"), mode: v("mode") };
  if (v("mode") === "static") {
    body.address = v("address");
    if (v("gateway")) body.gateway = v("gateway");
  }
  const dns = splitList(v("dns"));
  if (dns.length) body.dns = dns;
  if (v("vlan")) body.vlan = Number(v("vlan"));
  return body;
}

export function networkScreen(app: App): Screen {
  let nics: Nic[] = [];
  let form = new Form([]);
  let message = "";
  let trial: Trial | null = null;
  let poll: NodeJS.Timeout | undefined;

  let rules: ConfigRules | null = null;

  function build(cfg: NetworkAnswer["config"]): void {
    const { dnsList, gatewayFor, ipv4Cidr } = rules!;
    const m = cfg?.management;
    const names = ["auto", ...nics.map((n) => n.name)];
    if (m && !names.includes(m.interface)) names.push(m.interface);
    const f: Form = new Form([
      choice("interface", "Interface", names, Math.max(0, names.indexOf(m?.interface ?? "auto"))),
      choice("mode", "Mode", ["dhcp", "static"], m?.mode === "static" ? 1 : 0),
      text("address", "Address (CIDR)", { value: m?.address ?? "", max: 18, validate: required(ipv4Cidr), hidden: () => f.value("mode") !== "static" }),
      text("gateway", "Gateway", { value: m?.gateway ?? "", max: 15, validate: optional((t) => gatewayFor(f.value("address"))(t)), hidden: () => f.value("mode") !== "static" }),
      text("vlan", "VLAN tag (optional)", { value: m?.vlan ? String(m.vlan) : "", max: 4, validate: optional(vlan) }),
      text("dns", "DNS servers", { value: (m?.dns ?? []).join(" "), max: 47, validate: optional(dnsList) }),
      button("apply", "Apply (on trial)"),
    ]);
    form = f;
  }

  async function load(): Promise<void> {
    message = "Loading...";
    rules ??= await import("../validate-config.ts");
    try {
      const [list, a] = await Promise.all([
        app.api.call<{ interfaces: Nic[] }>("GET", "/api/v1/network/interfaces"),
        app.api.call<NetworkAnswer>("GET", "/api/v1/network"),
      ]);
      nics = list.status === 200 ? list.body.interfaces : [];
      if (a.status !== 200) throw new Error(errorText(a));
      build(a.body.config);
      trial = a.body.trial.state === "pending" || a.body.trial.state === "applying" ? a.body.trial : null;
      message = "";
      if (trial) watch();
    } catch (e) {
      build(null);
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    app.draw();
  }

  function watch(): void {
    clearTimeout(poll);
    poll = setTimeout(async () => {
      try {
        const a = await app.api.call<Trial>("GET", "/api/v1/network/trial");
        trial = a.body;
        if (trial.state !== "pending" && trial.state !== "applying") {
          message = `Trial ${trial.state}${trial.message ? `: ${trial.message}` : ""}`;
          trial = null;
        } else watch();
      } catch (e) {
        message = `✗ ${e instanceof Error ? e.message : String(e)}`;
        watch();
      }
      app.draw();
    }, 1000);
  }

  async function apply(): Promise<void> {
    const errors = form.errors();
    const bad = Object.keys(errors);
    if (bad.length) {
      message = `✗ Not applied: fix the marked field(s): ${bad.join(", ")}`;
      return;
    }
    const body = managementBody((id) => form.value(id));
    message = "Applying on trial...";
    app.draw();
    try {
      const a = await app.api.call<Trial>("PUT", "/api/v1/network", body);
      if (a.status !== 202) {
        message = `✗ ${errorText(a)}`;
      } else {
        trial = a.body;
        app.log(`network change on trial: ${JSON.stringify(body)}`);
        message = "";
        watch();
      }
    } catch (e) {
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    app.draw();
  }

  async function confirm(): Promise<void> {
    const a = await app.api.call<Trial>("POST", "/api/v1/network/confirm").catch((e: Error) => ({ status: 0, body: { message: e.message } }));
    if (a.status === 200) {
      app.log("network change confirmed from the console");
      message = "✓ Network change kept.";
      trial = null;
      clearTimeout(poll);
      void app.refresh();
    } else message = `✗ ${errorText(a as { status: number; body: unknown })}`;
    app.draw();
  }

  return {
    enter() {
      trial = null;
      form = new Form([]);
      void load();
    },
    leave() {
      clearTimeout(poll);
    },
    view() {
      const body = ["", "   Interfaces:"];
      for (const n of nics.slice(0, 4)) body.push(`     ${n.name.padEnd(16)}link ${linkText(n).padEnd(18)} ${n.mac}`);
      if (nics.length === 0) body.push("     (none found)");
      body.push("");
      body.push(...form.lines());
      body.push("");
      if (trial) {
        const left = trial.deadline ? Math.max(0, Math.round((Date.parse(trial.deadline) - app.now().getTime()) / 1000)) : null;
        body.push(`   On trial${trial.address ? ` at ${trial.address}` : ""} (${trial.state}): reverts by itself in ${left ?? "?"} s.`);
        body.push("   Check that the node is reachable, then press [F11] to keep the change.");
      }
      if (message) body.push(`   ${message}`);
      return {
        title: "Configure Network",
        body,
        footer: [trial ? "[F11] Keep the change   [Esc] Back (the change reverts unless kept)" : "[Tab/↑/↓] Move  [←/→] Choose  [Enter] Next / Press  [Esc] Back"],
      };
    },
    key(k) {
      if (k.name === "escape") return false;
      if (trial) {
        if (k.name === "f11") void confirm();
        return true;
      }
      const ev = form.key(k);
      if (ev?.pressed === "apply") void apply();
      return true;
    },
  };
}
