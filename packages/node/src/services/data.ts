/**
 * @module services/data
 * Is the VM data partition usable? `/data` must be a mount point of its own (a
 * missing QX_DATA partition would otherwise leave VMs writing into RAM) and must take
 * a write: a probe file is written, synced and removed.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { partition } from "@quantix/core";
import { type Check, oneLine } from "./check.ts";
import { findMount, parseMountinfo } from "./mountinfo.ts";
import { withTimeout } from "./timeout.ts";

export const DATA_MOUNTPOINT = partition("data").mountpoint ?? "/data";

async function probeWrite(dir: string): Promise<void> {
  const probe = join(dir, `.qx-node-probe.${process.pid}`);
  const h = await fs.open(probe, "w", 0o600);
  try {
    await h.writeFile("ok\n");
    await h.sync();
  } finally {
    await h.close();
    await fs.rm(probe, { force: true });
  }
}

/** Checks that /data is mounted (per mountinfo) and writable. */
export const checkData: Check = async (ctx, timeoutMs) => {
  let mounts: string;
  try {
    mounts = await fs.readFile(join(ctx.root, "proc/self/mountinfo"), "utf8");
  } catch (e) {
    return { ok: false, detail: `cannot read mountinfo: ${oneLine(e)}` };
  }
  const m = findMount(parseMountinfo(mounts), DATA_MOUNTPOINT);
  if (!m) {
    return { ok: false, detail: `${DATA_MOUNTPOINT} is not mounted (the QX_DATA partition is missing or failed to mount)` };
  }
  const data = { fsType: m.fsType, source: m.source };
  if (m.options.includes("ro")) return { ok: false, detail: `${DATA_MOUNTPOINT} is mounted read-only (${m.source})`, data };
  try {
    await withTimeout(probeWrite(join(ctx.root, DATA_MOUNTPOINT)), timeoutMs, `write to ${DATA_MOUNTPOINT}`);
  } catch (e) {
    return { ok: false, detail: `${DATA_MOUNTPOINT} is not writable: ${oneLine(e)}`, data };
  }
  return { ok: true, detail: `${m.fsType} on ${m.source}, writable`, data };
};
