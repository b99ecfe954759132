/**
 * @module services/shell-vars
 * Reads the shell-style `KEY=value` files the image and the initramfs write
 * (`/etc/quantix/release`, `/run/quantix/initramfs.status`). Values may be bare,
 * single-quoted or double-quoted; comments and blank lines are skipped; nothing is
 * ever evaluated.
 *
 * @example
 * ```ts
 * parseShellVars("QX_SLOT='A'\nQX_VERSION=1.0.0\n"); // Map { QX_SLOT → A, QX_VERSION → 1.0.0 }
 * ```
 */
import { promises as fs } from "node:fs";

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;

function unquote(raw: string): string {
  const v = raw.trim();
  if (v.startsWith("'")) {
    // POSIX single quotes, with the '\'' idiom for an embedded quote.
    return v
      .replace(/^'|'$/g, "")
      .replace(/'\\''/g, "'");
  }
  if (v.startsWith('"')) return v.replace(/^"|"$/g, "").replace(/\\(["\\$`])/g, "$1");
  return v.replace(/\s+#.*$/, "");
}

/** Parses KEY=value lines into a map (later keys win, as in a shell). */
export function parseShellVars(text: string): Map<string, string> {
  const vars = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (/^\s*(#|$)/.test(line)) continue;
    const m = LINE.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) vars.set(m[1], unquote(m[2]));
  }
  return vars;
}

/** Reads and parses a KEY=value file; `null` when it does not exist. */
export async function readShellVars(path: string): Promise<Map<string, string> | null> {
  try {
    return parseShellVars(await fs.readFile(path, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}
