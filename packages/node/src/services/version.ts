/**
 * @module services/version
 * The running image's version, from `/etc/quantix/release` (QX_VERSION=...), which
 * the image builder writes.
 */
import { join } from "node:path";
import { IMAGE_PATHS } from "@quantix/core";
import { type Check, oneLine } from "./check.ts";
import { cachePerKey, FileCache } from "./file-cache.ts";
import { readShellVars } from "./shell-vars.ts";

/** The release file's variables, read again only when it changes (the console asks every 5 s). */
const releaseVars = cachePerKey((root) => {
  const path = join(root, IMAGE_PATHS.release);
  return new FileCache([path], () => readShellVars(path));
});

/** Reads QX_VERSION; null when the file or the key is missing. */
export async function readVersion(root: string): Promise<string | null> {
  const vars = await releaseVars(root);
  return vars?.get("QX_VERSION") || null;
}

/** Checks that the image says which version it is. */
export const checkVersion: Check = async (ctx) => {
  const path = IMAGE_PATHS.release;
  try {
    const vars = await releaseVars(ctx.root);
    if (!vars) return { ok: false, detail: `${path} is missing` };
    const version = vars.get("QX_VERSION");
    if (!version) return { ok: false, detail: `${path} has no QX_VERSION` };
    return { ok: true, detail: version, data: { version, build: vars.get("QX_BUILD_EPOCH") ?? null } };
  } catch (e) {
    return { ok: false, detail: `cannot read ${path}: ${oneLine(e)}` };
  }
};
