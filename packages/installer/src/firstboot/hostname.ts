/**
 * @module firstboot/hostname
 * Applies the node's hostname to the running system: the kernel
 * (`/proc/sys/kernel/hostname`), `/etc/hostname` and the `127.0.1.1` line of
 * `/etc/hosts` (services failed until /etc/hosts named the host). `/etc` is the tmpfs
 * upper of the root, so this runs on every boot. Files are only rewritten when they
 * differ, atomically.
 *
 * @example
 * ```ts
 * await applyHostname("quantix-1a2b", { root: "/" });
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "@quantix/core";

/** `/etc/hosts` with the `127.0.1.1` line naming `hostname` (replaced, or added after localhost). */
export function hostsWithHostname(text: string, hostname: string): string {
  const line = `127.0.1.1\t${hostname}`;
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const i = lines.findIndex((l) => /^\s*127\.0\.1\.1\s/.test(l) || l.trim() === "127.0.1.1");
  if (i >= 0) lines[i] = line;
  else {
    const lo = lines.findIndex((l) => /^\s*127\.0\.0\.1\s/.test(l));
    lines.splice(lo >= 0 ? lo + 1 : 0, 0, line);
  }
  return `${lines.join("\n")}\n`;
}

export interface HostnameTargets {
  /** Root of the running system ("/" on a node). */
  readonly root: string;
}

/** Sets the running hostname; returns what changed, e.g. ["kernel", "/etc/hosts"]. */
export async function applyHostname(hostname: string, t: HostnameTargets): Promise<string[]> {
  const changed: string[] = [];
  const kernel = join(t.root, "proc/sys/kernel/hostname");
  const current = (await fs.readFile(kernel, "utf8").catch(() => "")).trim();
  if (current !== hostname) {
    // procfs takes a plain write; there is nothing to make atomic.
    await fs.writeFile(kernel, hostname);
    changed.push("kernel");
  }
  const etcHostname = join(t.root, "etc/hostname");
  if ((await fs.readFile(etcHostname, "utf8").catch(() => null)) !== `${hostname}\n`) {
    await writeFileAtomic(etcHostname, `${hostname}\n`);
    changed.push("/etc/hostname");
  }
  const hostsPath = join(t.root, "etc/hosts");
  const hosts = await fs.readFile(hostsPath, "utf8").catch(() => "127.0.0.1\tlocalhost\n");
  const next = hostsWithHostname(hosts, hostname);
  if (next !== hosts) {
    await writeFileAtomic(hostsPath, next);
    changed.push("/etc/hosts");
  }
  return changed;
}
