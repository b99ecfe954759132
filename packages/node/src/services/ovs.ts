/**
 * @module services/ovs
 * Is Open vSwitch up? `ovs-vsctl show` needs ovsdb-server to answer and prints the
 * bridges ovs-vswitchd runs; `--timeout` bounds the wait for the database.
 */
import { ExecError } from "@quantix/core";
import { type Check, oneLine } from "./check.ts";

/** Checks that ovsdb-server answers and counts the bridges. */
export const checkOvs: Check = async (ctx, timeoutMs) => {
  const seconds = Math.max(1, Math.floor((timeoutMs - 500) / 1000)); // ovs-vsctl gives up first
  try {
    const { stdout } = await ctx.runner("ovs-vsctl", [`--timeout=${seconds}`, "show"], { timeoutMs });
    const version = /ovs_version:\s*"?([^"\n]+)"?/.exec(stdout)?.[1] ?? null;
    const bridges = stdout.match(/^\s*Bridge\s/gm)?.length ?? 0;
    return {
      ok: true,
      detail: `${version ? `Open vSwitch ${version}, ` : ""}${bridges} bridge${bridges === 1 ? "" : "s"}`,
      data: { version, bridges },
    };
  } catch (e) {
    if (e instanceof ExecError && e.signal) return { ok: false, detail: `ovs-vsctl did not answer within ${timeoutMs} ms`, timedOut: true };
    return { ok: false, detail: oneLine(e) };
  }
};
