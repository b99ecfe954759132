/**
 * @module answers/source
 * Where an unattended install gets its answers: the kernel options, and an
 * `answers.yaml` on any filesystem with the label `QX_ANSWERS` (a second CD, a USB
 * stick, a small virtual disk: `xorriso -as mkisofs -V QX_ANSWERS -o answers.iso dir/`).
 * Kernel options win over the file. The result says whether the install may run
 * without asking.
 *
 * @example
 * ```ts
 * const s = await resolveAnswers({ cmdline: await readFile("/proc/cmdline", "utf8") });
 * if (s.unattended) await install({ mode: s.mode, target: s.disk!, ... });
 * ```
 */
import { promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QxError, run as coreRun } from "@quantix/core";
import type { Runner } from "../engine/disks.ts";
import type { DataFormat } from "../engine/phases.ts";
import { type AfterInstall, type AnswerFile, loadAnswerFile } from "./answer-file.ts";
import { DEFAULT_ANSWERS_LABEL, parseInstallCmdline } from "./cmdline.ts";

export const ANSWERS_FILE_NAME = "answers.yaml";

export class AnswersError extends QxError {
  override name = "AnswersError";
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super("ANSWERS", message, options);
  }
}

export interface ResolvedAnswers {
  /** The disk named by qx.install= or the answer file. */
  readonly disk: string | null;
  /** True when the disk is named and the erase confirmed in advance (qx.install.yes or `erase: true`). */
  readonly unattended: boolean;
  readonly mode: "install" | "upgrade";
  readonly data: DataFormat;
  readonly after: AfterInstall;
  /** The answer file's content, when one was found. */
  readonly file: AnswerFile | null;
  /** Where the answer file came from ("/dev/sr1:answers.yaml"), for the log. */
  readonly fileSource: string | null;
  readonly warnings: readonly string[];
}

/** Finds the device with filesystem label `label` and reads `answers.yaml` from it (read-only mount). */
export async function readAnswersFromLabel(label: string, run: Runner = coreRun): Promise<{ text: string; source: string } | null> {
  const r = await run("blkid", ["-l", "-o", "device", "-t", `LABEL=${label}`], { allowFailure: true, timeoutMs: 30_000 });
  const dev = r.exitCode === 0 ? r.stdout.trim().split("\n")[0] : "";
  if (!dev) return null;
  const dir = await fs.mkdtemp(join(tmpdir(), "qx-answers-"));
  try {
    await run("mount", ["-o", "ro", dev, dir]).catch((e) => {
      throw new AnswersError(`${dev} (label ${label}) cannot be mounted to read ${ANSWERS_FILE_NAME}`, { cause: e, hint: "use an ISO9660, FAT or ext4 filesystem" });
    });
    try {
      const text = await fs.readFile(join(dir, ANSWERS_FILE_NAME), "utf8").catch(() => null);
      if (text === null) throw new AnswersError(`${dev} is labelled ${label} but has no ${ANSWERS_FILE_NAME} at its top level`);
      return { text, source: `${dev}:${ANSWERS_FILE_NAME}` };
    } finally {
      await run("umount", [dir], { allowFailure: true });
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export interface ResolveOptions {
  readonly cmdline: string;
  /** Reads the answer file of a label (default: blkid + mount). */
  readonly readLabel?: (label: string) => Promise<{ text: string; source: string } | null>;
}

/** Merges the kernel options over the answer file. Throws ConfigError/AnswersError for a bad answer file. */
export async function resolveAnswers(o: ResolveOptions): Promise<ResolvedAnswers> {
  const { options, warnings } = parseInstallCmdline(o.cmdline);
  const label = options.answersLabel ?? DEFAULT_ANSWERS_LABEL;
  const found = await (o.readLabel ?? ((l: string) => readAnswersFromLabel(l)))(label);
  let file: AnswerFile | null = null;
  if (found) {
    const dir = await fs.mkdtemp(join(tmpdir(), "qx-answers-"));
    try {
      // Validated through core's config loader so errors read "answers.yaml: network.management.address: ...".
      const p = join(dir, ANSWERS_FILE_NAME);
      await fs.writeFile(p, found.text, { mode: 0o600 });
      file = await loadAnswerFile(p).catch((e: unknown) => {
        throw new AnswersError(`${found.source}: ${e instanceof Error ? e.message.replace(`${p}: `, "") : String(e)}`, {
          cause: e,
          hint: "fix the answer file; nothing was written to any disk",
        });
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }
  const disk = options.disk ?? file?.disk ?? null;
  const confirmed = options.yes ?? file?.erase ?? false;
  return {
    disk,
    unattended: disk !== null && confirmed,
    mode: options.mode ?? file?.mode ?? "install",
    data: options.data ?? file?.data ?? "xfs",
    after: options.after ?? file?.after ?? "reboot",
    file,
    fileSource: found?.source ?? null,
    warnings,
  };
}
