/**
 * @module banner
 * The tty1 status box of the seed's "First Boot" screen, as plain text at a fixed
 * width (80 columns): product and version, node name, status, management address and
 * URL, and the certificate fingerprint a browser will show. A pure function of what
 * qx-node's socket returned, so it is tested without a terminal.
 *
 * @example
 * ```ts
 * process.stdout.write(renderBanner({ health, summary, now: new Date() }));
 * ```
 */
import type { HealthDocument } from "@quantix/node/services/health";
import type { ConsoleSummary } from "@quantix/node/services/summary";

export const BANNER_WIDTH = 80;
export const TAGLINE = "The VMware Killer";

export interface BannerInput {
  /** `GET /api/v1/health`, or null when qx-node did not answer. */
  readonly health: HealthDocument | null;
  /** `GET /api/v1/console/summary`, or null when qx-node did not answer. */
  readonly summary: ConsoleSummary | null;
  /** Why qx-node could not be asked, if it could not. */
  readonly error?: string;
  readonly now: Date;
}

const len = (s: string): number => [...s].length;

/** Cuts `s` to `n` columns, marking the cut with "…". */
function fit(s: string, n: number): string {
  const chars = [...s];
  return chars.length <= n ? s : `${chars.slice(0, n - 1).join("")}…`;
}

/** The status line: Not Configured, Healthy, Degraded: <failing>, or Starting. */
export function statusText(input: Pick<BannerInput, "health" | "summary">): string {
  const { health, summary } = input;
  if (!health || !summary) return "Starting (qx-node is not answering yet)";
  if (!summary.configured) return "Not Configured";
  if (health.status === "healthy") return "Healthy";
  return `Degraded: ${health.failing.join(", ")}`;
}

/** The fingerprint in two halves of 16 bytes, so it fits on the screen. */
export function fingerprintLines(fp: string): string[] {
  const bytes = fp.split(":");
  return bytes.length > 16 ? [bytes.slice(0, 16).join(":"), bytes.slice(16).join(":")] : [fp];
}

function stamp(d: Date): string {
  return d.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** Renders the box; every line is exactly `width` columns. */
export function renderBanner(input: BannerInput, width = BANNER_WIDTH): string {
  const inner = width - 2;
  const { health, summary } = input;
  const pad = (text: string): string => {
    const t = fit(text, inner);
    return `║${t}${" ".repeat(inner - len(t))}║`;
  };
  const center = (text: string): string => {
    const t = fit(text, inner);
    const left = Math.floor((inner - len(t)) / 2);
    return pad(`${" ".repeat(left)}${t}`);
  };
  const rule = (l: string, r: string): string => `${l}${"═".repeat(inner)}${r}`;
  const version = summary?.version ?? health?.version ?? null;
  const product = (summary?.product ?? "Quantix-OS").toUpperCase();
  const lines = [rule("╔", "╗"), center(version ? `${product} v${version}` : product), center(TAGLINE), rule("╠", "╣"), pad("")];

  const field = (label: string, value: string): string => pad(`   ${`${label}:`.padEnd(10)}${value}`);
  lines.push(field("Node", summary?.hostname ?? "-"));
  lines.push(field("Status", statusText(input)));
  if (summary) {
    const m = summary.management;
    const mode = m.mode === "static" ? "static" : "DHCP";
    lines.push(field("IP", m.address ? `${m.address} (${mode})` : `no address yet (${mode}, ${m.interface})`));
  } else {
    lines.push(field("IP", "-"));
  }
  // What is wrong, in the checks' own words (at most three lines).
  if (health && health.failing.length > 0) {
    for (const name of health.failing.slice(0, 3)) {
      lines.push(pad(`     ! ${name}: ${health.components[name]?.detail ?? ""}`));
    }
  }
  if (!summary && input.error) lines.push(pad(`     ! ${input.error}`));
  lines.push(pad(""));
  lines.push(pad(`   Management URL: ${summary?.management.url ?? "-"}`));
  lines.push(pad(""));
  if (summary) {
    lines.push(pad("   Certificate fingerprint (SHA-256):"));
    for (const l of fingerprintLines(summary.certificate.fingerprint)) lines.push(pad(`     ${l}`));
    lines.push(pad(""));
  }
  lines.push(rule("╠", "╣"));
  lines.push(pad("  Manage this node in a browser at the Management URL above."));
  lines.push(pad(`  Updated ${stamp(input.now)}`));
  lines.push(rule("╚", "╝"));
  return `${lines.join("\n")}\n`;
}
