/**
 * @module checksum
 * `FILE.sha256` in `sha256sum` format (`HEX  NAME`), as builder/sign.sh writes it.
 */
import { createHash } from "node:crypto";

/** The hex digest in a `.sha256` file's text, or null when there is none. */
export function parseSha256File(text: string): string | null {
  const m = /^([0-9a-fA-F]{64})\b/.exec(text.trim());
  return m?.[1] ? m[1].toLowerCase() : null;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
