/**
 * @module firstboot/seed
 * Where the values of a new installation come from: the hostname prefix and the
 * initial management network. Today the only source is the image's
 * `/etc/quantix/defaults.yaml`.
 *
 * Extension point (installer answer file): an answer file becomes a second function
 * returning a {@link FirstbootSeed} (its values merged over {@link seedFromDefaults}'s),
 * passed to `firstbootSequence` as `seed`. The phases only read the seed, so nothing
 * else changes.
 */
import { loadDefaults, type NetworkConfig } from "@quantix/core";

export interface FirstbootSeed {
  /** Where these values come from, for the log ("/etc/quantix/defaults.yaml"). */
  readonly source: string;
  /** The node is named `<prefix>-XXXX`, XXXX = the first 4 hex digits of its node_id. */
  readonly hostnamePrefix: string;
  /** Written as /quantix/network.yaml when that file does not exist. */
  readonly network: NetworkConfig;
}

/** The seed from the image defaults (throws ConfigError when defaults.yaml is unusable). */
export async function seedFromDefaults(root = "/"): Promise<FirstbootSeed> {
  const d = await loadDefaults(root);
  return { source: "/etc/quantix/defaults.yaml", hostnamePrefix: d.node.hostname_prefix, network: d.network };
}
