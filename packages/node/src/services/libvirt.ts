/**
 * @module services/libvirt
 * Is libvirtd answering? `virsh -c qemu:///system version` opens a real connection to
 * the daemon and asks it something, which a socket file left behind cannot fake.
 */
import { ExecError } from "@quantix/core";
import { type Check, oneLine } from "./check.ts";

export const LIBVIRT_URI = "qemu:///system";

/** Checks that libvirtd accepts a connection and reports its version. */
export const checkLibvirt: Check = async (ctx, timeoutMs) => {
  try {
    const { stdout } = await ctx.runner("virsh", ["-c", LIBVIRT_URI, "version"], { timeoutMs });
    const daemon = /^Running against daemon:\s*(.+)$/m.exec(stdout)?.[1]?.trim();
    const hv = /^Running hypervisor:\s*(.+)$/m.exec(stdout)?.[1]?.trim();
    return {
      ok: true,
      detail: [daemon && `libvirtd ${daemon}`, hv].filter(Boolean).join(", ") || "libvirtd answers",
      data: { daemon: daemon ?? null, hypervisor: hv ?? null },
    };
  } catch (e) {
    if (e instanceof ExecError && e.signal) return { ok: false, detail: `libvirtd did not answer within ${timeoutMs} ms`, timedOut: true };
    return { ok: false, detail: oneLine(e) };
  }
};
