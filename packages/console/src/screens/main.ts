/**
 * @module screens/main
 * The main screen, the seed's "First Boot" box: product and version, node name,
 * status (Not Configured / Healthy / Degraded and what fails), management address and
 * mode, URL, certificate fingerprint, booted slot; refreshed by the app every few
 * seconds. The key hints list every F-key screen.
 */
import type { App, Screen } from "../app.ts";
import { fingerprintLines, statusText, TAGLINE } from "../banner.ts";

export const MAIN_FOOTER = [
  "[F2] Configure Network  [F4] Join Cluster       [F10] Shutdown  [F1] Password",
  "[F3] View Logs          [F5] Restart Services   [F12] Emergency Shell",
];

function stamp(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

export function mainScreen(app: App): Screen {
  return {
    view() {
      const { summary, health, error, at } = app.state;
      const version = summary?.version ?? health?.version ?? null;
      const product = (summary?.product ?? "Quantix-OS").toUpperCase();
      const field = (label: string, value: string): string => `   ${`${label}:`.padEnd(10)}${value}`;
      const body = [""];
      body.push(field("Node", summary?.hostname ?? "-"));
      body.push(field("Status", statusText({ health, summary })));
      for (const name of health?.failing.slice(0, 3) ?? []) body.push(`     ! ${name}: ${health?.components[name]?.detail ?? ""}`);
      if (error) body.push(`     ! ${error}`);
      if (summary) {
        const m = summary.management;
        const mode = m.mode === "static" ? "static" : "DHCP";
        body.push(field("IP", m.address ? `${m.address} (${mode}, ${m.interface})` : `no address yet (${mode}, ${m.interface})`));
      } else body.push(field("IP", "-"));
      body.push(field("Slot", health?.slot ? `${health.slot} (booted)` : "-"));
      body.push("");
      body.push(`   Management URL: ${summary?.management.url ?? "-"}`);
      body.push("");
      if (summary) {
        body.push("   Certificate fingerprint (SHA-256):");
        for (const l of fingerprintLines(summary.certificate.fingerprint)) body.push(`     ${l}`);
      }
      body.push("");
      body.push(`   Updated ${stamp(at)}`);
      return { title: version ? `${product} v${version}` : product, subtitle: TAGLINE, body, footer: MAIN_FOOTER };
    },
    key() {
      return false;
    },
  };
}
