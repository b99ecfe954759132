/**
 * @module services/addresses
 * The host's IPv4 addresses: every non-loopback one (for the certificate's SANs) and
 * the management address the console shows (the configured interface's, or the first
 * one when the interface is `auto`).
 */
import type { NetworkInterfaceInfo } from "node:os";
import type { NetworkConfig } from "@quantix/core";
import type { NodeContext } from "../context.ts";

export interface HostAddress {
  readonly interface: string;
  readonly address: string;
  readonly cidr: string | null;
}

function isV4(i: NetworkInterfaceInfo): boolean {
  return i.family === "IPv4" || (i.family as unknown) === 4;
}

/** Every non-loopback IPv4 address, sorted by interface name for a stable order. */
export function hostIpv4Addresses(ctx: Pick<NodeContext, "networkInterfaces">): HostAddress[] {
  const out: HostAddress[] = [];
  const ifs = ctx.networkInterfaces();
  for (const name of Object.keys(ifs).sort()) {
    for (const i of ifs[name] ?? []) {
      if (isV4(i) && !i.internal) out.push({ interface: name, address: i.address, cidr: i.cidr });
    }
  }
  return out;
}

/**
 * The management address: the configured interface's first IPv4 address; for
 * `auto` (or an interface that has none yet) the first address of the host; for a
 * static configuration that is not up yet, the configured address. Null if none.
 */
export function managementAddress(
  ctx: Pick<NodeContext, "networkInterfaces">,
  network: NetworkConfig | null,
): HostAddress | null {
  const all = hostIpv4Addresses(ctx);
  const m = network?.management;
  if (m && m.interface !== "auto") {
    const onIf = all.find((a) => a.interface === m.interface);
    if (onIf) return onIf;
  }
  if (m?.mode === "static" && m.address) {
    const configured = m.address.split("/")[0] ?? m.address;
    return all.find((a) => a.address === configured) ?? { interface: m.interface, address: configured, cidr: m.address };
  }
  return all[0] ?? null;
}
