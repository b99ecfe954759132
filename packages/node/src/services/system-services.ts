/**
 * @module services/system-services
 * The OpenRC services an admin manages from the API: status (`rc-service NAME
 * status`), restart, and SSH on/off. A service whose init script is not in the image
 * is reported as `not-installed`, never as stopped: the image has no SSH server yet,
 * so enabling SSH is refused with that reason until it has one.
 *
 * @example
 * ```ts
 * const svc = systemServices(ctx);
 * await svc.status("libvirtd"); // { name: "libvirtd", state: "started", installed: true, ... }
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { ExecError, nodeConfigFile } from "@quantix/core";
import { z } from "zod";
import { ConflictError, SystemCommandError } from "../api/http-errors.ts";
import type { NodeContext } from "../context.ts";

/** The managed services, by their OpenRC names. */
export const SERVICES = {
  libvirtd: "libvirt daemon (VMs)",
  "openvswitch-switch": "Open vSwitch (ovs-vswitchd, ovsdb-server)",
  "quantix-console": "the console on tty1 (DCUI)",
  ssh: "OpenSSH server (disabled by default)",
} as const;
export const ServiceName = z.enum(Object.keys(SERVICES) as [keyof typeof SERVICES, ...(keyof typeof SERVICES)[]], {
  message: `expected one of ${Object.keys(SERVICES).join(", ")}`,
});
export type ServiceName = z.infer<typeof ServiceName>;

export const ServiceStatus = z.object({
  name: ServiceName,
  description: z.string(),
  installed: z.boolean(),
  state: z.enum(["started", "stopped", "crashed", "starting", "stopping", "inactive", "not-installed", "unknown"]),
  /** Whether it starts at boot (SSH: the node.yaml setting). */
  enabled: z.boolean().nullable(),
  detail: z.string(),
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;

const STATES = ["started", "stopped", "crashed", "starting", "stopping", "inactive"] as const;

/** The state `rc-service NAME status` printed (` * status: started`), else from its exit code. */
export function parseRcStatus(stdout: string, exitCode: number | null): ServiceStatus["state"] {
  const word = /status:\s*(\w+)/.exec(stdout)?.[1];
  const known = STATES.find((s) => s === word);
  if (known) return known;
  if (exitCode === 0) return "started";
  if (exitCode === 3) return "stopped";
  if (exitCode === 32) return "crashed";
  return "unknown";
}

export interface SystemServices {
  status(name: ServiceName): Promise<ServiceStatus>;
  list(): Promise<ServiceStatus[]>;
  restart(name: ServiceName): Promise<ServiceStatus>;
  setSsh(enabled: boolean): Promise<ServiceStatus>;
}

export function systemServices(ctx: NodeContext): SystemServices {
  const installed = (name: string) => fs.access(join(ctx.root, "etc/init.d", name)).then(() => true, () => false);

  async function rc(args: string[], timeoutMs: number): Promise<void> {
    try {
      await ctx.runner(args[0]!, args.slice(1), { timeoutMs });
    } catch (e) {
      if (e instanceof ExecError) throw new SystemCommandError(e.message, { cause: e });
      throw e;
    }
  }

  async function sshSetting(): Promise<boolean> {
    const r = await nodeConfigFile(ctx.root).loadWithFallback();
    return r.value?.ssh?.enabled ?? false;
  }

  async function status(name: ServiceName): Promise<ServiceStatus> {
    const description = SERVICES[name];
    const enabled = name === "ssh" ? await sshSetting() : null;
    if (!(await installed(name))) {
      const detail = name === "ssh" ? "this image has no SSH server (no /etc/init.d/ssh)" : `no /etc/init.d/${name} in this image`;
      return { name, description, installed: false, state: "not-installed", enabled, detail };
    }
    try {
      const r = await ctx.runner("rc-service", [name, "status"], { allowFailure: true, timeoutMs: 5000 });
      const state = parseRcStatus(r.stdout, r.exitCode);
      const detail = (r.stdout.trim() || r.stderr.trim()).split("\n")[0]?.replace(/^\s*\*\s*/, "") ?? "";
      return { name, description, installed: true, state, enabled, detail };
    } catch (e) {
      return { name, description, installed: true, state: "unknown", enabled, detail: e instanceof Error ? e.message : String(e) };
    }
  }

  return {
    status,
    list: () => Promise.all(ServiceName.options.map(status)),
    async restart(name) {
      if (!(await installed(name))) throw new ConflictError(`${name} is not installed in this image`);
      if (name === "ssh" && !(await sshSetting())) throw new ConflictError("SSH is disabled; enable it first");
      await rc(["rc-service", name, "restart"], 60_000);
      return status(name);
    },
    async setSsh(enabled) {
      if (enabled && !(await installed("ssh"))) {
        throw new ConflictError("this image has no SSH server (no /etc/init.d/ssh); SSH cannot be enabled", {
          hint: "use the console, or the API, until an image with OpenSSH is installed",
        });
      }
      await nodeConfigFile(ctx.root).update((doc) => doc.set(["ssh", "enabled"], enabled));
      if (await installed("ssh")) {
        if (enabled) {
          await rc(["rc-update", "add", "ssh", "default"], 10_000);
          await rc(["rc-service", "ssh", "start"], 30_000);
        } else {
          await rc(["rc-service", "ssh", "stop"], 30_000);
          await rc(["rc-update", "del", "ssh", "default"], 10_000);
        }
      }
      return status("ssh");
    },
  };
}
