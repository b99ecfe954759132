/**
 * @module context
 * Everything qx-update touches, as one object of parameters: the root directory
 * (`/` on a node, a temp dir in tests), the ESP, the slot targets, the running
 * system's identity and the update settings. Tests build one over a fake ESP
 * directory and a disk image file; {@link nodeUpdateContext} builds the real one.
 */
import { join } from "node:path";
import {
  CONFIG_DIR,
  IMAGE_PATHS,
  loadDefaults,
  nodeConfigFile,
  parseKeyValue,
  type SlotName,
  UpdateSettings,
} from "@quantix/core";
import { readBootInfo } from "@quantix/node/services/slot";
import { promises as fs } from "node:fs";
import { type EspAccess, mountedEsp } from "./esp.ts";
import { partitionSlots, type SlotTargets } from "./slot-targets.ts";

export type Settings = ReturnType<typeof UpdateSettings.parse>;

/** What the running system is. `slot` is null off a node (workstation, live media). */
export interface Running {
  readonly slot: SlotName | null;
  readonly trying: boolean;
  readonly version: string | null;
  readonly arch: string;
}

export interface UpdateContext {
  readonly root: string;
  readonly esp: EspAccess;
  readonly slots: SlotTargets;
  readonly keysDir: string;
  readonly historyPath: string;
  /** Progress and diagnostics (one line each). */
  readonly log: (line: string) => void;
  running(): Promise<Running>;
  settings(): Promise<Settings>;
}

export const historyPathFor = (root: string) => join(root, CONFIG_DIR, "update", "history.json");

/** The architecture name the release file uses for this process's CPU. */
export function hostArch(): string {
  return process.arch === "x64" ? "x86_64" : process.arch === "arm64" ? "aarch64" : process.arch;
}

/** Reads the running system's slot (kernel command line) and release (version, arch). */
export async function readRunning(root: string): Promise<Running> {
  const boot = await readBootInfo(root).catch(() => null);
  const text = await fs.readFile(join(root, IMAGE_PATHS.release), "utf8").catch(() => "");
  const rel = parseKeyValue(text);
  return {
    slot: boot?.live ? null : (boot?.slot ?? null),
    trying: boot?.trying ?? false,
    version: rel.QX_VERSION || null,
    arch: rel.QX_ARCH || hostArch(),
  };
}

/** node.yaml `update:` over the image defaults over the schema defaults. */
export async function readSettings(root: string): Promise<Settings> {
  const base = await loadDefaults(root).then(
    (d) => d.update,
    () => UpdateSettings.parse({}),
  );
  const node = await nodeConfigFile(root)
    .loadWithFallback()
    .catch(() => null);
  return { ...base, ...(node?.value?.update ?? {}) };
}

/** The context of a real node (or, with `root`, of a tree laid out like one). */
export function nodeUpdateContext(options: { root?: string; esp?: EspAccess; slots?: SlotTargets; log?: (l: string) => void } = {}): UpdateContext {
  const root = options.root ?? "/";
  return {
    root,
    esp: options.esp ?? mountedEsp(),
    slots: options.slots ?? partitionSlots(),
    keysDir: join(root, IMAGE_PATHS.trustedKeys),
    historyPath: historyPathFor(root),
    log: options.log ?? ((l) => process.stderr.write(`${l}\n`)),
    running: () => readRunning(root),
    settings: () => readSettings(root),
  };
}

