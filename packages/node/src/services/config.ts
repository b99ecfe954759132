/**
 * @module services/config
 * The configuration in force. node.yaml and network.yaml are loaded with core's
 * fallback loader: when someone breaks a file, the daemon keeps running on the last
 * copy that loaded, and the `config` health component fails with the file's one-line
 * error until the file is fixed.
 */
import { type LoadResult, type NetworkConfig, type NodeConfig, networkConfigFile, nodeConfigFile } from "@quantix/core";
import type { Check } from "./check.ts";
import { cachePerKey, FileCache } from "./file-cache.ts";

export interface ConfigInForce {
  readonly node: LoadResult<NodeConfig>;
  readonly network: LoadResult<NetworkConfig>;
}

const configInForce = cachePerKey((root) => {
  const files = [nodeConfigFile(root), networkConfigFile(root)] as const;
  return new FileCache(
    files.flatMap((f) => [f.path, f.lastGoodPath]),
    async (): Promise<ConfigInForce> => {
      const [node, network] = await Promise.all([files[0].loadWithFallback(), files[1].loadWithFallback()]);
      return { node, network };
    },
  );
});

/**
 * Loads both files (each falls back to its last good copy). The result is shared
 * until one of the files or their last good copies changes (see services/file-cache):
 * do not modify it.
 */
export function loadConfigInForce(root: string): Promise<ConfigInForce> {
  return configInForce(root);
}

/** Checks that node.yaml and network.yaml both load and validate. */
export const checkConfig: Check = async (ctx) => {
  const c = await loadConfigInForce(ctx.root);
  const errors = [c.node.error, c.network.error].filter((e) => e !== null);
  const data = { node: c.node.source, network: c.network.source };
  if (errors.length === 0) return { ok: true, detail: "node.yaml and network.yaml valid", data };
  return { ok: false, detail: errors.map((e) => e.message).join("; "), data };
};
