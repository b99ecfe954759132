/**
 * @module test-support
 * Fixtures for qx-node's tests: a temporary root laid out like a node (node.yaml,
 * network.yaml, mountinfo with /data, kernel command line, release file) and a fake
 * command runner answering for virsh and ovs-vsctl, which this machine lacks.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { ExecError, type RunOptions, type RunResult } from "@quantix/core";
import { type NodeContext, nodeContext, type Runner } from "./context.ts";

export const NODE_YAML = `node_id: "550e8400-e29b-41d4-a716-446655440000"
hostname: "quantix-01"
`;
export const NETWORK_YAML = `management:
  interface: "eth0"
  mode: "dhcp"
`;
export const MOUNTINFO_WITH_DATA = `22 1 0:21 / / rw,relatime shared:1 - overlay overlay rw
36 22 8:5 / /data rw,relatime shared:9 - xfs /dev/vda5 rw,attr2
35 22 8:4 / /quantix rw,relatime shared:8 - ext4 /dev/vda4 rw
`;

/** Lays out a healthy node under a new temporary directory; returns its path. */
export async function makeRoot(files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "qx-node-"));
  const all: Record<string, string> = {
    "quantix/node.yaml": NODE_YAML,
    "quantix/network.yaml": NETWORK_YAML,
    "proc/self/mountinfo": MOUNTINFO_WITH_DATA,
    "proc/cmdline": "BOOT_IMAGE=/boot/vmlinuz console=tty1 qx.slot=B quiet\n",
    "etc/quantix/release": "QX_VERSION=1.2.3\nQX_ARCH=x86_64\n",
    "run/quantix/initramfs.status": "# written by the Quantix-OS initramfs\nQX_SLOT='B'\nQX_TRYING='0'\nQX_CONFIG='mounted'\n",
    "run/quantix/boot.json": `${JSON.stringify({ ok: true, at: "2026-12-04T00:00:00.000Z", phases: [{ name: "firstboot", status: "done", message: "ready", startMs: 0, ms: 10 }] })}\n`,
    ...files,
  };
  await mkdir(join(root, "data"), { recursive: true });
  for (const [p, text] of Object.entries(all)) {
    await mkdir(dirname(join(root, p)), { recursive: true });
    await writeFile(join(root, p), text);
  }
  return root;
}

export async function removeRoot(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

export const VIRSH_VERSION = `Compiled against library: libvirt 11.3.0
Using library: libvirt 11.3.0
Using API: QEMU 11.3.0
Running hypervisor: QEMU 10.0.2
Running against daemon: 11.3.0
`;
export const OVS_SHOW = `1b3c-uuid
    Bridge br-mgmt
        Port br-mgmt
            Interface br-mgmt
                type: internal
    ovs_version: "3.5.0"
`;

export type FakeAnswer = string | { exitCode: number; stderr: string } | "hang";

/**
 * A runner that answers `virsh` and `ovs-vsctl` from `answers` (default: healthy),
 * records every call, and fails any other command with exit 127.
 */
export function fakeRunner(answers: Partial<Record<"virsh" | "ovs-vsctl", FakeAnswer>> = {}): Runner & { calls: string[] } {
  const calls: string[] = [];
  const table: Record<string, FakeAnswer> = { virsh: VIRSH_VERSION, "ovs-vsctl": OVS_SHOW, ...answers };
  const runner = async (command: string, args: readonly string[] = [], options: RunOptions = {}): Promise<RunResult> => {
    calls.push([command, ...args].join(" "));
    const a = table[command];
    if (a === undefined) throw new ExecError(command, args, 127, null, "", "not found");
    if (a === "hang") {
      // Like a child killed by run()'s timeout.
      await new Promise((r) => setTimeout(r, options.timeoutMs ?? 60_000));
      throw new ExecError(command, args, null, "SIGTERM", "", "");
    }
    if (typeof a === "string") return { stdout: a, stderr: "", exitCode: 0, signal: null };
    throw new ExecError(command, args, a.exitCode, null, "", a.stderr);
  };
  return Object.assign(runner, { calls });
}

/** A context rooted at `root` with a fake runner and one fake interface (eth0, 192.0.2.10). */
export function testContext(root: string, runner: Runner = fakeRunner()): NodeContext {
  return nodeContext({
    root,
    runner,
    hostname: () => "kernel-name",
    networkInterfaces: () => ({
      lo: [{ address: "127.0.0.1", netmask: "255.0.0.0", family: "IPv4", mac: "00:00:00:00:00:00", internal: true, cidr: "127.0.0.1/8" }],
      eth0: [{ address: "192.0.2.10", netmask: "255.255.255.0", family: "IPv4", mac: "52:54:00:12:34:56", internal: false, cidr: "192.0.2.10/24" }],
    }),
  });
}
