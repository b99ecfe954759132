/**
 * @module services/summary
 * What the console shows: node name, whether first boot has configured the node, the
 * management address and URL, the certificate fingerprint. The console reads it from
 * the local socket only (`GET /api/v1/console/summary`).
 */
import { promises as fs } from "node:fs";
import { configPaths } from "@quantix/core";
import type { NodeContext } from "../context.ts";
import { managementAddress } from "./addresses.ts";
import type { NodeCertificate } from "./certificate.ts";
import { loadConfigInForce } from "./config.ts";
import { readVersion } from "./version.ts";

export const PRODUCT = "Quantix-OS";

export interface ConsoleSummary {
  readonly product: string;
  readonly version: string | null;
  readonly hostname: string;
  /** False until first boot has finished (`/quantix/firstboot.done`). */
  readonly configured: boolean;
  readonly management: {
    readonly interface: string;
    readonly mode: "dhcp" | "static";
    readonly address: string | null;
    readonly url: string | null;
  };
  readonly certificate: { readonly fingerprint: string; readonly notAfter: string };
}

/** Gathers the console summary from the config in force, the host's addresses and the certificate. */
export async function consoleSummary(
  ctx: NodeContext,
  server: { readonly port: number; readonly certificate: NodeCertificate },
): Promise<ConsoleSummary> {
  const paths = configPaths(ctx.root);
  const [config, version, configured] = await Promise.all([
    loadConfigInForce(ctx.root),
    readVersion(ctx.root).catch(() => null),
    fs.access(paths.firstbootDone).then(
      () => true,
      () => false,
    ),
  ]);
  const net = config.network.value;
  const addr = managementAddress(ctx, net);
  return {
    product: PRODUCT,
    version,
    hostname: config.node.value?.hostname ?? ctx.hostname(),
    configured,
    management: {
      interface: addr?.interface ?? net?.management.interface ?? "auto",
      mode: net?.management.mode ?? "dhcp",
      address: addr?.address ?? null,
      url: addr ? `https://${addr.address}${server.port === 443 ? "" : `:${server.port}`}` : null,
    },
    certificate: { fingerprint: server.certificate.fingerprint, notAfter: server.certificate.notAfter },
  };
}
