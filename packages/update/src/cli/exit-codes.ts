/**
 * @module cli/exit-codes
 * qx-update's documented exit codes, from the error's class.
 *
 * | code | meaning |
 * |---|---|
 * | 0 | success |
 * | 1 | unexpected failure |
 * | 2 | usage error |
 * | 3 | image rejected by a pre-write check (nothing was touched) |
 * | 4 | refused by the A/B slot model (e.g. running slot not good, nothing to roll back to) |
 * | 5 | writing or reading back the slot failed (the slot stays marked bad) |
 * | 6 | boot environment or ESP unusable |
 * | 7 | not an installed Quantix-OS node |
 * | 8 | download failed |
 * | 9 | boot-check: health gate failed, the slot was given up (reboot under way) |
 */
import { GrubEnvError, SlotStateError, SlotWriteError } from "@quantix/core";
import { DownloadError, EspError, HealthGateError, ImageRejectedError, NotInstalledError } from "../errors.ts";

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  rejected: 3,
  slotState: 4,
  write: 5,
  bootEnv: 6,
  notInstalled: 7,
  download: 8,
  healthGate: 9,
} as const;

export function exitCodeFor(e: unknown): number {
  if (e instanceof ImageRejectedError) return EXIT.rejected;
  if (e instanceof SlotStateError) return EXIT.slotState;
  if (e instanceof SlotWriteError) return EXIT.write;
  if (e instanceof GrubEnvError || e instanceof EspError) return EXIT.bootEnv;
  if (e instanceof NotInstalledError) return EXIT.notInstalled;
  if (e instanceof DownloadError) return EXIT.download;
  if (e instanceof HealthGateError) return EXIT.healthGate;
  return EXIT.failure;
}
