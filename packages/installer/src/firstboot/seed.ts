/**
 * @module firstboot/seed
 * Where the values of a new installation come from: the image's
 * `/etc/quantix/defaults.yaml` (hostname prefix, management network), overlaid by
 * what the installer left from its answer file in `/quantix/install.yaml` (a fixed
 * hostname, the network, the admin password hash). A broken install.yaml does not
 * stop the first boot: the defaults are used and the seed carries a warning.
 *
 * @example
 * ```ts
 * const seed = await seedFor("/"); // { hostnamePrefix: "quantix", network, hostname?, adminPasswordHash? }
 * ```
 */
import { join } from "node:path";
import { CONFIG_DIR, configFile, loadDefaults, type NetworkConfig } from "@quantix/core";
import { INSTALL_SEED_FILE, InstallSeed } from "../answers/answer-file.ts";

export interface FirstbootSeed {
  /** Where these values come from, for the log ("/etc/quantix/defaults.yaml"). */
  readonly source: string;
  /** The node is named `<prefix>-XXXX`, XXXX = the first 4 hex digits of its node_id, unless `hostname` is set. */
  readonly hostnamePrefix: string;
  /** A fixed hostname from the answer file. */
  readonly hostname?: string;
  /** Written as /quantix/network.yaml when that file does not exist. */
  readonly network: NetworkConfig;
  /** scrypt hash for the admin account, from the answer file. */
  readonly adminPasswordHash?: string;
  /** Why install.yaml was not used, when it exists but is broken. */
  readonly warning?: string;
}

/** The seed from the image defaults (throws ConfigError when defaults.yaml is unusable). */
export async function seedFromDefaults(root = "/"): Promise<FirstbootSeed> {
  const d = await loadDefaults(root);
  return { source: "/etc/quantix/defaults.yaml", hostnamePrefix: d.node.hostname_prefix, network: d.network };
}

export const installSeedPath = (root = "/"): string => join(root, CONFIG_DIR, INSTALL_SEED_FILE);

/** Defaults overlaid by /quantix/install.yaml when the installer left one. */
export async function seedFor(root = "/"): Promise<FirstbootSeed> {
  const base = await seedFromDefaults(root);
  const file = configFile(installSeedPath(root), InstallSeed);
  if (!(await file.exists())) return base;
  try {
    const s = await file.load();
    return {
      source: `${base.source} + ${join(CONFIG_DIR, INSTALL_SEED_FILE)}`,
      hostnamePrefix: base.hostnamePrefix,
      network: s.network ? withDefaultBridge(s.network, base.network) : base.network,
      ...(s.hostname ? { hostname: s.hostname } : {}),
      ...(s.admin_password_hash ? { adminPasswordHash: s.admin_password_hash } : {}),
    };
  } catch (e) {
    return { ...base, warning: `${e instanceof Error ? e.message : String(e)}; using the image defaults` };
  }
}

/**
 * The installer's network settings plus the image's default VM bridge and network
 * (management on `vmbr0`, `vm-network` on it) when the answer declares no bridges of
 * its own: a node installed with a static address gets the same VM network as one on
 * DHCP. An answer with `bridges:` is taken as it is.
 */
export function withDefaultBridge(answer: NetworkConfig, defaults: NetworkConfig): NetworkConfig {
  const bridge = defaults.management.bridge;
  if (answer.bridges !== undefined || answer.management.bridge !== undefined || !bridge) return answer;
  return {
    ...answer,
    management: { ...answer.management, bridge },
    bridges: defaults.bridges ?? [],
    ...(defaults.networks ? { networks: defaults.networks } : {}),
  };
}
