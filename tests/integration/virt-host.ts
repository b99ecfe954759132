/**
 * @module tests/integration/virt-host
 * A private libvirtd + Open vSwitch for the integration tests on a build host, with
 * nothing shared with the host's own services: `unshare --pid --mount --net` gives
 * them a PID namespace (when its PID 1, a shell waiting for libvirtd, ends, every QEMU
 * and OVS daemon in it is killed), a mount namespace (tmpfs over /etc/libvirt, /var/lib/libvirt, /run/libvirt,
 * /var/log/libvirt, /var/cache/libvirt; /etc/passwd and /etc/group with libvirt's
 * users bound over the host's), and a network namespace (bridges and taps stay in
 * it). ovsdb-server and ovs-vswitchd (userspace `netdev` datapath, no kernel module)
 * keep their database and sockets in the temporary directory, which the tests reach
 * from outside: `virsh -c qemu:///system?socket=DIR/run/libvirt-sock` and
 * `ovs-vsctl --db=unix:DIR/ovs/db.sock`.
 *
 * {@link startVirtHost} returns a reason instead when this machine cannot do it (not
 * root, a tool missing, no namespaces); the tests print it and skip.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@quantix/core";

export interface VirtHost {
  readonly dir: string;
  readonly uri: string;
  /** ovs-vsctl --db value. */
  readonly ovsDb: string;
  readonly poolDir: string;
  readonly consoleDir: string;
  /** Runs virsh against this libvirtd. */
  virsh(...args: string[]): Promise<string>;
  /** Runs ovs-vsctl against this ovsdb-server. */
  vsctl(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

const SCRIPT = String.raw`set -eu
D=$1
for d in /etc/libvirt /var/lib/libvirt /run/libvirt /var/log/libvirt /var/cache/libvirt; do
  mkdir -p "$d"; mount -t tmpfs qx-virt-test "$d"
done
mkdir -p /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt/qemu "$D/run" "$D/ovs"
cp /etc/passwd "$D/passwd"; cp /etc/group "$D/group"
grep -q '^libvirt-qemu:' "$D/passwd" || echo 'libvirt-qemu:x:64055:64055:Libvirt Qemu:/var/lib/libvirt:/usr/sbin/nologin' >>"$D/passwd"
grep -q '^libvirt-qemu:' "$D/group" || echo 'libvirt-qemu:x:64055:' >>"$D/group"
grep -q '^kvm:' "$D/group" || echo 'kvm:x:64056:' >>"$D/group"
mount --bind "$D/passwd" /etc/passwd; mount --bind "$D/group" /etc/group
printf '%s\n' 'user = "root"' 'group = "root"' 'dynamic_ownership = 0' 'security_driver = "none"' 'stdio_handler = "file"' 'namespaces = []' >/etc/libvirt/qemu.conf
printf '%s\n' "unix_sock_dir = \"$D/run\"" 'unix_sock_rw_perms = "0700"' 'auth_unix_rw = "none"' 'auth_unix_ro = "none"' >/etc/libvirt/libvirtd.conf
ip link set lo up
export OVS_RUNDIR="$D/ovs" OVS_DBDIR="$D/ovs" OVS_LOGDIR="$D/ovs" OVS_SYSCONFDIR="$D/ovs"
ovsdb-tool create "$D/ovs/conf.db" /usr/share/openvswitch/vswitch.ovsschema
ovsdb-server --remote="punix:$D/ovs/db.sock" --pidfile --log-file --detach "$D/ovs/conf.db"
ovs-vsctl --no-wait init
ovs-vswitchd --pidfile --log-file --detach "unix:$D/ovs/db.sock"
# sh stays PID 1 of the namespace: its wait reaps the QEMU processes libvirtd orphans
# (libvirtd as PID 1 would not, and would wait for the zombies on every destroy).
libvirtd --config /etc/libvirt/libvirtd.conf --pid-file "$D/run/libvirtd.pid" &
LIBVIRTD=$!
trap 'kill -TERM $LIBVIRTD' TERM INT
wait $LIBVIRTD || true
wait $LIBVIRTD || true
`;

const TOOLS = ["libvirtd", "virsh", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovsdb-tool", "qemu-system-x86_64", "unshare", "ip", "cpio"];

function which(cmd: string): boolean {
  const dirs = (process.env["PATH"] ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  return dirs.some((d) => d && existsSync(join(d, cmd)));
}

async function waitFor(what: string, ms: number, ok: () => Promise<boolean>, proc: ChildProcess, log: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`${what}: the namespace exited (${proc.exitCode}):\n${log().slice(-2000)}`);
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not come up within ${ms} ms:\n${log().slice(-2000)}`);
}

/** Starts the private libvirtd + OVS, or says why it cannot here. */
export async function startVirtHost(): Promise<VirtHost | { skip: string }> {
  if (process.getuid?.() !== 0) return { skip: "needs root (libvirtd, namespaces, tap devices)" };
  for (const t of TOOLS) if (!which(t)) return { skip: `${t} is not installed (make deps installs builder/host-packages.conf)` };
  const probe = await run("unshare", ["--pid", "--fork", "--mount", "--net", "--propagation", "private", "true"], { allowFailure: true, timeoutMs: 10_000 });
  if (probe.exitCode !== 0) return { skip: `cannot create namespaces here (${probe.stderr.trim() || `exit ${probe.exitCode}`})` };
  const dir = await fs.mkdtemp(join(tmpdir(), "qx-virt-"));
  const poolDir = join(dir, "pool");
  const consoleDir = join(dir, "console");
  await fs.mkdir(poolDir);
  await fs.writeFile(join(dir, "ns.sh"), SCRIPT);
  const proc = spawn("unshare", ["--pid", "--fork", "--kill-child", "--mount-proc", "--mount", "--net", "--propagation", "private", "sh", join(dir, "ns.sh"), dir], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const collect = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  proc.stdout?.on("data", collect);
  proc.stderr?.on("data", collect);
  const uri = `qemu:///system?socket=${join(dir, "run", "libvirt-sock")}`;
  const ovsDb = `unix:${join(dir, "ovs", "db.sock")}`;
  const virsh = async (...args: string[]) => (await run("virsh", ["-q", "-c", uri, ...args], { timeoutMs: 120_000 })).stdout;
  const vsctl = async (...args: string[]) => (await run("ovs-vsctl", ["--timeout=10", `--db=${ovsDb}`, ...args], { timeoutMs: 20_000 })).stdout;
  const host: VirtHost = {
    dir,
    uri,
    ovsDb,
    poolDir,
    consoleDir,
    virsh,
    vsctl,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
        if (proc.exitCode === null) proc.kill("SIGKILL");
      }
      await fs.rm(dir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
  try {
    await waitFor("ovsdb-server", 30_000, () => run("ovs-vsctl", ["--timeout=2", `--db=${ovsDb}`, "show"], { allowFailure: true }).then((r) => r.exitCode === 0), proc, () => out);
    // The first connection waits for libvirtd to probe QEMU's capabilities (seconds under load).
    await waitFor("libvirtd", 180_000, () => run("virsh", ["-c", uri, "version"], { allowFailure: true, timeoutMs: 90_000 }).then((r) => r.exitCode === 0), proc, () => out);
  } catch (e) {
    await host.stop();
    throw e;
  }
  return host;
}

/** A kernel to boot test guests with: QX_TEST_KERNEL, /boot, or a rootfs under build/. */
export async function findKernel(repo: string): Promise<string | null> {
  const env = process.env["QX_TEST_KERNEL"];
  if (env) return env;
  const candidates = ["/boot/vmlinuz", "/vmlinuz"];
  for (const f of await fs.readdir("/boot").catch(() => [] as string[])) if (f.startsWith("vmlinuz-")) candidates.push(join("/boot", f));
  for (const b of await fs.readdir(join(repo, "build")).catch(() => [] as string[])) candidates.push(join(repo, "build", b, "rootfs/boot/vmlinuz"));
  for (const c of candidates) {
    if (await fs.access(c).then(() => true, () => false)) return c;
  }
  return null;
}

/**
 * A BusyBox initramfs whose /init prints QX-GUEST-READY on the console every second
 * and answers each line it reads with QX-ECHO:<line>. Null when no static BusyBox.
 */
export async function makeInitramfs(out: string): Promise<string | null> {
  const busybox = ["/bin/busybox", "/usr/bin/busybox"].find((p) => existsSync(p));
  if (!busybox) return null;
  const ldd = await run("ldd", [busybox], { allowFailure: true }).catch(() => null);
  if (ldd && ldd.exitCode === 0 && /=>/.test(ldd.stdout)) return null; // dynamically linked: would not run alone
  const dir = await fs.mkdtemp(join(tmpdir(), "qx-initramfs-"));
  try {
    for (const d of ["bin", "dev", "proc"]) await fs.mkdir(join(dir, d));
    await fs.copyFile(busybox, join(dir, "bin/busybox"));
    await fs.chmod(join(dir, "bin/busybox"), 0o755);
    const init = [
      "#!/bin/busybox sh",
      "/bin/busybox mount -t proc proc /proc",
      "/bin/busybox mount -t devtmpfs dev /dev",
      "while true; do",
      '  if read -t 1 line; then echo "QX-ECHO:$line"; else echo QX-GUEST-READY; fi',
      "done",
      "",
    ];
    await fs.writeFile(join(dir, "init"), init.join("\n"), { mode: 0o755 });
    const list = (await run("find", [".", "-mindepth", "1"], { cwd: dir })).stdout;
    await run("sh", ["-c", `cpio -o -H newc --quiet > "$1"`, "sh", out], { cwd: dir, input: list });
    return out;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
