/**
 * @module config/files
 * Where each configuration file lives, bound to its schema. `root` is `/` on a node
 * and a temporary directory in tests.
 */
import { join } from "node:path";
import { partition } from "../layout.ts";
import { Defaults, NetworkConfig, NodeConfig } from "./schema.ts";
import { configFile, parseYaml } from "./store.ts";
import { promises as fs } from "node:fs";
import { configErrorFromZod } from "./errors-format.ts";

export const CONFIG_DIR = partition("config").mountpoint ?? "/quantix";
export const DEFAULTS_PATH = "/etc/quantix/defaults.yaml";

export const configPaths = (root = "/") => ({
  dir: join(root, CONFIG_DIR),
  node: join(root, CONFIG_DIR, "node.yaml"),
  network: join(root, CONFIG_DIR, "network.yaml"),
  certificates: join(root, CONFIG_DIR, "certificates"),
  firstbootDone: join(root, CONFIG_DIR, "firstboot.done"),
  defaults: join(root, DEFAULTS_PATH),
});

export const nodeConfigFile = (root = "/") => configFile(configPaths(root).node, NodeConfig);
export const networkConfigFile = (root = "/") => configFile(configPaths(root).network, NetworkConfig);

/** Loads the image's defaults.yaml (it is part of the read-only image, so it must be valid). */
export async function loadDefaults(root = "/"): Promise<Defaults> {
  const path = configPaths(root).defaults;
  const doc = parseYaml(path, await fs.readFile(path, "utf8"));
  const data = doc.toJS();
  const r = Defaults.safeParse(data);
  if (!r.success) throw configErrorFromZod(path, r.error, data);
  return r.data;
}
