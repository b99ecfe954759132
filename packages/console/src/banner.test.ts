import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { HealthDocument } from "@quantix/node/services/health";
import type { ConsoleSummary } from "@quantix/node/services/summary";
import { BANNER_WIDTH, renderBanner } from "./banner.ts";

const FP = "57:36:C0:09:F0:C3:03:10:74:4B:5B:68:16:C6:40:07:55:A3:64:3A:B1:8A:6D:C1:26:E6:8D:D9:9F:7B:20:A9";
const NOW = new Date("2026-11-26T02:17:27Z");

function health(failing: string[] = []): HealthDocument {
  const names = ["libvirtd", "ovs", "data", "config", "slot", "version"];
  const components = Object.fromEntries(
    names.map((n) => [n, { ok: !failing.includes(n), detail: failing.includes(n) ? `${n} is broken: ${"x".repeat(90)}` : "fine", ms: 3 }]),
  );
  return { status: failing.length ? "degraded" : "healthy", version: "1.0.0", slot: "A", checkedAt: NOW.toISOString(), components, failing };
}

function summary(over: Partial<ConsoleSummary> = {}): ConsoleSummary {
  return {
    product: "Quantix-OS",
    version: "1.0.0",
    hostname: "quantix-01",
    configured: true,
    management: { interface: "eth0", mode: "dhcp", address: "192.168.1.100", url: "https://192.168.1.100:8443" },
    certificate: { fingerprint: FP, notAfter: "2036-11-26T02:17:25.000Z" },
    ...over,
  };
}

function lines(text: string): string[] {
  assert.ok(text.endsWith("\n"));
  return text.slice(0, -1).split("\n");
}

function assertBox(text: string): string[] {
  const ls = lines(text);
  for (const l of ls) assert.equal([...l].length, BANNER_WIDTH, `not ${BANNER_WIDTH} columns: ${JSON.stringify(l)}`);
  assert.match(ls[0] ?? "", /^╔═+╗$/);
  assert.match(ls.at(-1) ?? "", /^╚═+╝$/);
  for (const l of ls.slice(1, -1)) assert.match(l, /^[║╠].*[║╣]$/);
  return ls;
}

describe("tty1 banner", () => {
  it("renders the seed's box at 80 columns: version, node, status, IP, URL, fingerprint", () => {
    const ls = assertBox(renderBanner({ health: health(), summary: summary(), now: NOW }));
    const text = ls.join("\n");
    assert.match(ls[1] ?? "", /^║ +QUANTIX-OS v1\.0\.0 +║$/);
    assert.match(text, /║ {3}Node: {5}quantix-01 +║/);
    assert.match(text, /║ {3}Status: {3}Healthy +║/);
    assert.match(text, /║ {3}IP: {7}192\.168\.1\.100 \(DHCP\) +║/);
    assert.match(text, /║ {3}Management URL: https:\/\/192\.168\.1\.100:8443 +║/);
    assert.ok(text.includes("57:36:C0:09:F0:C3:03:10:74:4B:5B:68:16:C6:40:07"));
    assert.ok(text.includes("55:A3:64:3A:B1:8A:6D:C1:26:E6:8D:D9:9F:7B:20:A9"));
    assert.match(text, /Updated 2026-11-26 02:17:27 UTC/);
  });

  it("Degraded names the failing components and cuts long details to fit", () => {
    const ls = assertBox(renderBanner({ health: health(["ovs", "config"]), summary: summary({ management: { interface: "eth0", mode: "static", address: "10.0.0.5", url: "https://10.0.0.5:8443" } }), now: NOW }));
    const text = ls.join("\n");
    assert.match(text, /Status: {3}Degraded: ovs, config +║/);
    assert.match(text, /! ovs: ovs is broken: x+…║/);
    assert.match(text, /IP: {7}10\.0\.0\.5 \(static\)/);
  });

  it("Not Configured before first boot has finished", () => {
    const text = renderBanner({ health: health(), summary: summary({ configured: false }), now: NOW });
    assert.match(text, /Status: {3}Not Configured +║/);
  });

  it("qx-node unreachable: still a full box, saying why", () => {
    const ls = assertBox(renderBanner({ health: null, summary: null, error: "qx-node is not answering on /run/quantix/qx-node.sock: no such socket", now: NOW }));
    const text = ls.join("\n");
    assert.match(text, /Status: {3}Starting \(qx-node is not answering yet\)/);
    assert.match(text, /! qx-node is not answering on \/run\/quantix\/qx-node\.sock: no such socket/);
    assert.match(ls[1] ?? "", /QUANTIX-OS +║$/);
  });
});
