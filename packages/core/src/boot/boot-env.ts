/**
 * @module boot-env
 * The A/B boot state as stored in the GRUB environment on the ESP, in two copies
 * (`grubenv`, then `grubenv.bak`). Each copy starts with `qx_seq=N` and ends with
 * `qx_seq_end=N`; a copy is valid when both are present and equal, so a torn or
 * garbled write is detected. Readers use the first copy when valid, else the second.
 * Writers write the first copy, then the second, each atomically and durably.
 *
 * The variable names here are the contract with `grub-cfg.ts`.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { GrubEnvError } from "../errors.ts";
import { ESP_PATHS } from "../layout.ts";
import { decodeGrubEnv, encodeGrubEnv, type GrubEnv, writeGrubEnvFile } from "./grub-env.ts";
import {
  type BootState,
  isSlotName,
  MAX_TRIES_LIMIT,
  SLOT_STATUSES,
  SLOTS,
  type SlotInfo,
  type SlotName,
  type SlotStatus,
} from "./slots.ts";

/** GRUB variable names, shared with the grub.cfg generator. */
export const ENV_KEYS = {
  seq: "qx_seq",
  seqEnd: "qx_seq_end",
  primary: "qx_primary",
  watchdog: "qx_watchdog",
  cmdline: "qx_cmdline",
  status: (s: SlotName) => `qx_${s}_state`,
  tries: (s: SlotName) => `qx_${s}_tries`,
  version: (s: SlotName) => `qx_${s}_version`,
  reason: (s: SlotName) => `qx_${s}_reason`,
} as const;

/** Boot settings kept beside the state. */
export interface BootSettings {
  /** Watchdog timeout (s) armed on a trial boot; the health deadline plus margin. */
  readonly watchdogSeconds: number;
  /** Extra kernel command-line options (e.g. `console=ttyS0,115200`). */
  readonly cmdline: string;
}

export const DEFAULT_BOOT_SETTINGS: BootSettings = { watchdogSeconds: 420, cmdline: "" };

export interface BootEnv {
  readonly state: BootState;
  readonly settings: BootSettings;
}

/** Which copy a read used, and why the other was passed over. */
export interface BootEnvRead extends BootEnv {
  readonly source: "primary" | "backup";
  /** Problems found in either copy (e.g. the primary copy torn). */
  readonly problems: readonly string[];
}

/** Serialises a BootEnv into GRUB variables, `qx_seq` first and `qx_seq_end` last. */
export function bootEnvToGrubEnv(env: BootEnv): GrubEnv {
  const m: GrubEnv = new Map();
  m.set(ENV_KEYS.seq, String(env.state.seq));
  m.set(ENV_KEYS.primary, env.state.primary);
  for (const s of SLOTS) {
    const i = env.state.slots[s];
    m.set(ENV_KEYS.status(s), i.status);
    m.set(ENV_KEYS.tries(s), String(i.tries));
    m.set(ENV_KEYS.version(s), i.version ?? "");
    m.set(ENV_KEYS.reason(s), i.reason ?? "");
  }
  m.set(ENV_KEYS.watchdog, String(env.settings.watchdogSeconds));
  m.set(ENV_KEYS.cmdline, env.settings.cmdline);
  m.set(ENV_KEYS.seqEnd, String(env.state.seq));
  return m;
}

function intIn(v: string | undefined, lo: number, hi: number): number | null {
  if (v === undefined || !/^[0-9]+$/.test(v)) return null;
  const n = Number(v);
  return n >= lo && n <= hi ? n : null;
}

/** Parses GRUB variables into a BootEnv; throws GrubEnvError naming what is wrong. */
export function grubEnvToBootEnv(m: GrubEnv, file?: string): BootEnv {
  const seq = intIn(m.get(ENV_KEYS.seq), 0, Number.MAX_SAFE_INTEGER);
  const seqEnd = m.get(ENV_KEYS.seqEnd);
  if (seq === null) throw new GrubEnvError(`${ENV_KEYS.seq} missing or not a number`, file);
  if (seqEnd !== String(seq)) {
    throw new GrubEnvError(`torn write: ${ENV_KEYS.seq}=${seq} but ${ENV_KEYS.seqEnd}=${seqEnd ?? "(missing)"}`, file);
  }
  const primary = m.get(ENV_KEYS.primary);
  if (!isSlotName(primary)) throw new GrubEnvError(`${ENV_KEYS.primary} must be A or B, got ${primary}`, file);
  const slots = {} as Record<SlotName, SlotInfo>;
  for (const s of SLOTS) {
    const status = m.get(ENV_KEYS.status(s));
    if (!SLOT_STATUSES.includes(status as SlotStatus)) {
      throw new GrubEnvError(`${ENV_KEYS.status(s)} must be one of ${SLOT_STATUSES.join("|")}, got ${status}`, file);
    }
    const tries = intIn(m.get(ENV_KEYS.tries(s)), 0, MAX_TRIES_LIMIT);
    if (tries === null) throw new GrubEnvError(`${ENV_KEYS.tries(s)} must be 0..${MAX_TRIES_LIMIT}`, file);
    slots[s] = {
      status: status as SlotStatus,
      tries,
      version: m.get(ENV_KEYS.version(s)) || null,
      reason: m.get(ENV_KEYS.reason(s)) || null,
    };
  }
  const watchdogSeconds = intIn(m.get(ENV_KEYS.watchdog), 30, 65535) ?? DEFAULT_BOOT_SETTINGS.watchdogSeconds;
  return { state: { seq, primary, slots }, settings: { watchdogSeconds, cmdline: m.get(ENV_KEYS.cmdline) ?? "" } };
}

/** Paths of the two copies under an ESP mount point (or any directory laid out like one). */
export function bootEnvPaths(espRoot: string): { primary: string; backup: string } {
  return { primary: join(espRoot, ESP_PATHS.grubEnv), backup: join(espRoot, ESP_PATHS.grubEnvBackup) };
}

async function readCopy(path: string): Promise<BootEnv> {
  let block: Buffer;
  try {
    block = await fs.readFile(path);
  } catch (e) {
    throw new GrubEnvError(`cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path, { cause: e });
  }
  return grubEnvToBootEnv(decodeGrubEnv(block, path), path);
}

/**
 * Reads the boot state: the primary copy when valid, else the backup. Throws
 * GrubEnvError when neither copy is valid.
 */
export async function readBootEnv(espRoot: string): Promise<BootEnvRead> {
  const paths = bootEnvPaths(espRoot);
  const problems: string[] = [];
  try {
    const env = await readCopy(paths.primary);
    try {
      const b = await readCopy(paths.backup);
      if (b.state.seq !== env.state.seq) problems.push(`${paths.backup}: stale (seq ${b.state.seq}, primary ${env.state.seq})`);
    } catch (e) {
      problems.push((e as Error).message);
    }
    return { ...env, source: "primary", problems };
  } catch (e) {
    problems.push((e as Error).message);
  }
  try {
    const env = await readCopy(paths.backup);
    return { ...env, source: "backup", problems };
  } catch (e) {
    problems.push((e as Error).message);
  }
  throw new GrubEnvError(`no valid boot environment: ${problems.join("; ")}`, undefined, {
    hint: "the ESP may be damaged; reinstall the boot files with the installer's upgrade mode",
  });
}

/** Writes both copies (primary first), each atomically and durably. */
export async function writeBootEnv(espRoot: string, env: BootEnv): Promise<void> {
  const paths = bootEnvPaths(espRoot);
  const vars = bootEnvToGrubEnv(env);
  encodeGrubEnv(vars); // fail on oversize before touching either copy
  await fs.mkdir(join(espRoot, ESP_PATHS.grubDir), { recursive: true });
  await writeGrubEnvFile(paths.primary, vars);
  await writeGrubEnvFile(paths.backup, vars);
}
