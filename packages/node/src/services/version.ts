/**
 * @module services/version
 * The running image's version, from `/etc/quantix/release` (QX_VERSION=...), which
 * the image builder writes.
 */
import { join } from "node:path";
import { IMAGE_PATHS } from "@quantix/core";
import { type Check, oneLine } from "./check.ts";
import { readShellVars } from "./shell-vars.ts";

/** Reads QX_VERSION; null when the file or the key is missing. */
export async function readVersion(root: string): Promise<string | null> {
  const vars = await readShellVars(join(root, IMAGE_PATHS.release));
  return vars?.get("QX_VERSION") || null;
}

/** Checks that the image says which version it is. */
export const checkVersion: Check = async (ctx) => {
  const path = IMAGE_PATHS.release;
  try {
    const vars = await readShellVars(join(ctx.root, path));
    if (!vars) return { ok: false, detail: `${path} is missing` };
    const version = vars.get("QX_VERSION");
    if (!version) return { ok: false, detail: `${path} has no QX_VERSION` };
    return { ok: true, detail: version, data: { version, build: vars.get("QX_BUILD_EPOCH") ?? null } };
  } catch (e) {
    return { ok: false, detail: `cannot read ${path}: ${oneLine(e)}` };
  }
};
