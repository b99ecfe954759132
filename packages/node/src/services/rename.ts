/**
 * @module services/rename
 * Renames the node: `hostname` in `/quantix/node.yaml` (comments kept) and the
 * running system (kernel, /etc/hostname, /etc/hosts) through the installer's
 * first-boot hostname step, the one place that knows how.
 *
 * The TLS certificate keeps its old name among its SANs until it is regenerated
 * (clients pin its fingerprint, which must not change under them).
 *
 * @example
 * ```ts
 * await renameNode(ctx, "esx-lab-2"); // ["node.yaml", "kernel", "/etc/hostname", "/etc/hosts"]
 * ```
 */
import { Mutex, nodeConfigFile } from "@quantix/core";
import { applyHostname } from "@quantix/installer/firstboot/hostname";
import type { NodeContext } from "../context.ts";

/** One rename at a time: node.yaml, the kernel and /etc always end up with the same name. */
const renames = new Mutex();

/** Sets the new name; returns what changed. */
export function renameNode(ctx: NodeContext, hostname: string): Promise<string[]> {
  return renames.run(() => renameNow(ctx, hostname));
}

async function renameNow(ctx: NodeContext, hostname: string): Promise<string[]> {
  const file = nodeConfigFile(ctx.root);
  const before = await file.load();
  const changed: string[] = [];
  if (before.hostname !== hostname) {
    await file.update((doc) => doc.set(["hostname"], hostname));
    changed.push("node.yaml");
  }
  changed.push(...(await applyHostname(hostname, { root: ctx.root })));
  return changed;
}
