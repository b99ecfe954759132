/**
 * @module install
 * Applying an update, as a named phase list (pessimistic, as RAUC's install):
 * verify (nothing touched) → begin (target slot marked bad, boot env written) →
 * write (slot written, fsynced, read back and re-hashed) → switch (target on trial
 * with N tries and primary, boot env written) → record. The booted slot is never
 * written; a failure after `begin` leaves the target bad and the booted slot primary.
 *
 * @example
 * ```ts
 * const r = await applyUpdate(nodeUpdateContext(), { image: "system-1.1.0.squashfs" });
 * r.slot; // "B", boots on trial at the next reboot
 * ```
 */
import { Readable } from "node:stream";
import {
  beginInstall,
  type BootEnv,
  completeInstall,
  readBootEnv,
  type SlotName,
  otherSlot,
  writeBootEnv,
  writeSlot,
} from "@quantix/core";
import type { Running, Settings, UpdateContext } from "./context.ts";
import { NotInstalledError } from "./errors.ts";
import { appendHistory } from "./history.ts";
import { type VerifiedImage, verifyImageData } from "./verify.ts";

export type ProgressPhase = "verify" | "begin" | "write" | "read-back" | "switch" | "done";
export type ProgressFn = (phase: ProgressPhase, done?: number, total?: number) => void;

export interface ApplyRequest {
  readonly image: string;
  readonly sigPath?: string;
  readonly sha256Path?: string;
  /** The expected SHA-256 (hex), instead of a `.sha256` file (optional for a signed image). */
  readonly sha256?: string;
  /** Accept an image older than the running version (node.yaml's update.allow_downgrade does too). */
  readonly allowDowngrade?: boolean;
  readonly onProgress?: ProgressFn;
}

export interface ApplyResult {
  readonly slot: SlotName;
  readonly from: SlotName;
  readonly version: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly signedBy: string | null;
  readonly tries: number;
  readonly ms: { verify: number; write: number; readBack: number; total: number };
}

interface ApplyState {
  readonly ctx: UpdateContext;
  readonly req: ApplyRequest;
  running: Running & { slot: SlotName };
  settings: Settings;
  target: SlotName;
  verified?: VerifiedImage;
  data?: Uint8Array | undefined;
  writeMs?: number;
  verifyMs?: number;
}

function* chunks(data: Uint8Array, size = 4 * 1024 * 1024): Generator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield Buffer.from(data.buffer, data.byteOffset + off, Math.min(size, data.length - off));
}

interface Phase {
  readonly name: ProgressPhase;
  run(s: ApplyState): Promise<void>;
}

/** Reads the boot env, applies `change`, writes both copies; all within one ESP mount. */
export async function updateBootEnv(ctx: UpdateContext, change: (env: BootEnv) => BootEnv): Promise<BootEnv> {
  return ctx.esp.use(async (root) => {
    const env = await readBootEnv(root);
    const next = change({ state: env.state, settings: env.settings });
    if (next.state !== env.state || env.problems.length > 0) await writeBootEnv(root, next);
    return next;
  });
}

export const APPLY_PHASES: readonly Phase[] = [
  {
    name: "verify",
    async run(s) {
      const region = await s.ctx.slots.region(s.target);
      const v = await verifyImageData(s.req.image, {
        keysDir: s.ctx.keysDir,
        allowUnsigned: s.settings.allow_unsigned,
        running: s.running,
        slotBytes: region.size,
        ...(s.req.sigPath ? { sigPath: s.req.sigPath } : {}),
        ...(s.req.sha256Path ? { sha256Path: s.req.sha256Path } : {}),
        ...(s.req.sha256 !== undefined ? { sha256: s.req.sha256 } : {}),
        allowDowngrade: Boolean(s.req.allowDowngrade) || s.settings.allow_downgrade,
        log: s.ctx.log,
      });
      s.verified = v.image;
      s.data = v.data;
    },
  },
  {
    name: "begin",
    async run(s) {
      await updateBootEnv(s.ctx, (env) => ({ ...env, state: beginInstall(env.state, s.running.slot) }));
    },
  },
  {
    name: "write",
    async run(s) {
      const v = s.verified as VerifiedImage;
      const region = await s.ctx.slots.region(s.target);
      // The bytes that were verified, from memory (the file is not read again).
      const r = await writeSlot(Readable.from(chunks(s.data as Uint8Array)), region, {
        expectedSha256: v.sha256,
        onProgress: (phase, done) => s.req.onProgress?.(phase === "write" ? "write" : "read-back", done, v.bytes),
      });
      s.data = undefined;
      s.writeMs = r.writeMs;
      s.verifyMs = r.verifyMs;
    },
  },
  {
    name: "switch",
    async run(s) {
      const v = s.verified as VerifiedImage;
      await updateBootEnv(s.ctx, (env) => ({
        settings: { ...env.settings, watchdogSeconds: s.settings.watchdog_timeout },
        state: completeInstall(env.state, s.running.slot, v.version, s.settings.max_tries),
      }));
      await appendHistory(s.ctx.historyPath, { kind: "installed", slot: s.target, version: v.version, reason: `from ${s.running.slot} (${s.running.version ?? "?"})` });
    },
  },
];

/** Applies an image to the inactive slot and makes it the next boot, on trial. */
export async function applyUpdate(ctx: UpdateContext, req: ApplyRequest): Promise<ApplyResult> {
  const t0 = performance.now();
  const running = await ctx.running();
  if (!running.slot) throw new NotInstalledError("not booted from a Quantix-OS slot (no qx.slot= on the kernel command line)");
  const s: ApplyState = { ctx, req, running: { ...running, slot: running.slot }, settings: await ctx.settings(), target: otherSlot(running.slot) };
  for (const p of APPLY_PHASES) {
    req.onProgress?.(p.name);
    ctx.log(`${p.name}: ${p.name === "verify" ? req.image : `slot ${s.target}`}`);
    await p.run(s);
  }
  req.onProgress?.("done");
  const v = s.verified as VerifiedImage;
  return {
    slot: s.target,
    from: running.slot,
    version: v.version,
    sha256: v.sha256,
    bytes: v.bytes,
    signedBy: v.signedBy,
    tries: s.settings.max_tries,
    ms: { verify: Math.round(v.ms), write: Math.round(s.writeMs ?? 0), readBack: Math.round(s.verifyMs ?? 0), total: Math.round(performance.now() - t0) },
  };
}
