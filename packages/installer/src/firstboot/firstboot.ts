/**
 * @module firstboot/firstboot
 * qx-firstboot: prepares `/quantix` once per installation, before qx-node starts, and
 * applies the hostname on every boot. A named phase list:
 *
 *   ensureConfigDir → ensureIdentity → ensureNetworkConfig → ensureCertDir
 *     → ensureAdminCredential → applyHostname → markDone
 *
 * Values for a new installation come from the image defaults overlaid by the
 * installer's `/quantix/install.yaml` (see seed.ts). Every phase checks what exists
 * and does only what is missing; every write is atomic (temp + fsync + rename). A
 * power cut anywhere reruns cleanly on the next boot and never yields a second
 * identity (see {@link ensureIdentity}; firstboot.test.ts cuts the power before every
 * single write). `firstboot.done` is written last. The TLS pair is made by qx-node on
 * its first start (it names the node's IP addresses, known only once the network is
 * up); without an admin password hash in the answers, so is the random initial
 * admin password.
 *
 * @example
 * ```ts
 * const report = await runFirstboot({ root: "/" });
 * if (!report.ok) process.exitCode = 1;
 * ```
 */
import { randomUUID } from "node:crypto";
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { configPaths, isAtomicWriteLeftover, networkConfigFile, writeFileAtomic } from "@quantix/core";
import { FirstbootError } from "./errors.ts";
import { applyHostname } from "./hostname.ts";
import { ensureIdentity, type Identity, nodeIdFromDoneFile } from "./identity.ts";
import { ensureAdminCredential } from "./admin-credential.ts";
import { type FirstbootSeed, seedFor } from "./seed.ts";
import { type PhaseResult, runSequence, Sequence, type SequenceReport } from "./sequence.ts";

export interface FirstbootOptions {
  /** Root of the running system: "/" on a node, a temporary directory in tests. */
  readonly root?: string;
  /** Values for a new installation; default: the image's defaults.yaml. An answer file plugs in here. */
  readonly seed?: () => Promise<FirstbootSeed>;
  readonly newNodeId?: () => string;
  readonly now?: () => Date;
  readonly log?: (line: string) => void;
}

export interface FirstbootContext {
  readonly root: string;
  readonly paths: ReturnType<typeof configPaths>;
  readonly seed: () => Promise<FirstbootSeed>;
  readonly newNodeId: () => string;
  readonly now: () => Date;
  /** Set by ensureIdentity, read by applyHostname and markDone. */
  identity: Identity | null;
}

const done = (message: string): PhaseResult => ({ status: "done", message });
const skipped = (message: string): PhaseResult => ({ status: "skipped", message });


async function ensureConfigDir(ctx: FirstbootContext): Promise<PhaseResult> {
  const dir = ctx.paths.dir;
  const st = await fs.stat(dir).catch(() => null);
  if (st && !st.isDirectory()) throw new FirstbootError(`${dir} exists but is not a directory`, "ensureConfigDir");
  if (!st) await fs.mkdir(dir, { recursive: true, mode: 0o755 });
  // The config partition must be writable, or nothing below can persist.
  await fs.access(dir, fs.constants.W_OK).catch((e) => {
    throw new FirstbootError(`${dir} is not writable (${(e as NodeJS.ErrnoException).code})`, "ensureConfigDir", {
      hint: "is the QX_CONFIG partition mounted read-write?",
      cause: e,
    });
  });
  const stale = (await fs.readdir(dir)).filter(isAtomicWriteLeftover);
  for (const n of stale) await fs.rm(`${dir}/${n}`, { force: true });
  const cleaned = stale.length ? `; removed ${stale.length} interrupted temporary file(s)` : "";
  return st ? skipped(`${dir} present${cleaned}`) : done(`created ${dir}${cleaned}`);
}

async function ensureIdentityPhase(ctx: FirstbootContext): Promise<PhaseResult> {
  const { identity, message } = await ensureIdentity({
    root: ctx.root,
    prefix: async () => (await ctx.seed()).hostnamePrefix,
    hostname: async () => (await ctx.seed()).hostname,
    newNodeId: ctx.newNodeId,
  });
  ctx.identity = identity;
  if (identity.degraded) return { status: "warning", message };
  return identity.source === "file" ? skipped(message) : done(message);
}

async function ensureNetworkConfig(ctx: FirstbootContext): Promise<PhaseResult> {
  const file = networkConfigFile(ctx.root);
  if (await file.exists()) {
    // Left as it is even when broken: qx-netconf falls back to the last good copy, then the defaults.
    return skipped(`${file.path} present`);
  }
  const seed = await ctx.seed();
  await file.write(seed.network, { header: ` ${file.path}: the management network. Created by qx-firstboot from ${seed.source}.` });
  return done(`created ${file.path} from ${seed.source} (${seed.network.management.mode} on ${seed.network.management.interface})`);
}

async function ensureCertDir(ctx: FirstbootContext): Promise<PhaseResult> {
  const dir = ctx.paths.certificates;
  const st = await fs.stat(dir).catch(() => null);
  if (st?.isDirectory()) return skipped(`${dir} present`);
  if (st) throw new FirstbootError(`${dir} exists but is not a directory`, "ensureCertDir", { hint: "move it away; qx-node keeps its TLS pair there" });
  await fs.mkdir(dir, { mode: 0o700 });
  return done(`created ${dir} (qx-node creates its TLS pair there)`);
}

async function ensureAdminCredentialPhase(ctx: FirstbootContext): Promise<PhaseResult> {
  const seed = await ctx.seed();
  const r = await ensureAdminCredential({ dir: join(ctx.paths.dir, "auth"), hash: seed.adminPasswordHash, now: ctx.now });
  if (seed.warning) return { status: "warning", message: `${r.message}; install.yaml not used: ${seed.warning}` };
  return r.wrote ? done(r.message) : skipped(r.message);
}

async function applyHostnamePhase(ctx: FirstbootContext): Promise<PhaseResult> {
  if (!ctx.identity) throw new FirstbootError("no identity: the hostname cannot be applied", "applyHostname");
  const changed = await applyHostname(ctx.identity.hostname, { root: ctx.root });
  return changed.length ? done(`hostname ${ctx.identity.hostname} (${changed.join(", ")})`) : skipped(`hostname ${ctx.identity.hostname} already set`);
}

async function markDone(ctx: FirstbootContext): Promise<PhaseResult> {
  const path = ctx.paths.firstbootDone;
  const recorded = await nodeIdFromDoneFile(path);
  if (!ctx.identity) throw new FirstbootError("no identity: not marking first boot done", "markDone");
  if (recorded === ctx.identity.nodeId) return skipped(`${path} present`);
  if (ctx.identity.degraded) return { status: "warning", message: `not marking first boot done while node.yaml is broken` };
  await writeFileAtomic(path, `completed_at=${ctx.now().toISOString()}\nnode_id=${ctx.identity.nodeId}\n`, { mode: 0o644 });
  return done(`wrote ${path}${recorded ? ` (it recorded node_id ${recorded})` : ""}`);
}

/** The boot sequence, by name. Identity failures do not stop the independent phases. */
export function firstbootSequence(): Sequence<FirstbootContext> {
  return new Sequence<FirstbootContext>()
    .append("ensureConfigDir", ensureConfigDir)
    .append("ensureIdentity", ensureIdentityPhase, { continueOnError: true })
    .append("ensureNetworkConfig", ensureNetworkConfig, { continueOnError: true })
    .append("ensureCertDir", ensureCertDir, { continueOnError: true })
    .append("ensureAdminCredential", ensureAdminCredentialPhase, { continueOnError: true })
    .append("applyHostname", applyHostnamePhase, { continueOnError: true })
    .append("markDone", markDone, { onlyIfAllOk: true });
}

/** Runs the sequence; `ok` is false when any phase failed (firstboot.done is then not written). */
export async function runFirstboot(o: FirstbootOptions = {}): Promise<SequenceReport> {
  const root = o.root ?? "/";
  let seedPromise: Promise<FirstbootSeed> | null = null;
  const seed = o.seed ?? (() => seedFor(root));
  const ctx: FirstbootContext = {
    root,
    paths: configPaths(root),
    seed: () => {
      seedPromise ??= seed();
      return seedPromise;
    },
    newNodeId: o.newNodeId ?? randomUUID,
    now: o.now ?? (() => new Date()),
    identity: null,
  };
  const log = o.log ?? ((l: string) => process.stdout.write(`qx-firstboot: ${l}\n`));
  const report = await runSequence(firstbootSequence(), ctx, log);
  return report;
}
