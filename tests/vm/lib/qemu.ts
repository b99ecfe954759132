/**
 * @module tests/vm/lib/qemu
 * Boots Quantix-OS images in QEMU for the VM tier and `make run`:
 * q35, OVMF (a fresh VARS copy per VM) or SeaBIOS, the disk through a qcow2 overlay so
 * the artifact is never modified, user-mode networking with 127.0.0.1:<free port> →
 * guest 8443, serial log in a file with `waitFor`, QMP for reset / power-off / kill,
 * and a qemu-guest-agent channel for commands inside the guest.
 * KVM is used when it really runs guests; otherwise TCG.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GuestAgent } from "./agent.ts";
import { ApiClient } from "./api-client.ts";
import { QmpClient } from "./qmp.ts";

/** The guest CPU model under TCG (see Vm.args). */
export const TCG_CPU = "Skylake-Client-v4";
export const OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd";
export const OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd";
const QEMU = "qemu-system-x86_64";

export interface VmOptions {
  /** Name used for the run directory and messages. */
  name: string;
  /** Raw disk image, attached through a qcow2 overlay. */
  disk?: string;
  /** ISO attached as a CD-ROM. */
  iso?: string;
  /** Add a blank virtio disk of this size (installer tests). */
  blankDiskBytes?: number;
  firmware?: "uefi" | "bios";
  memoryMiB?: number;
  cpus?: number;
  /** Add QEMU's i6300esb watchdog device. */
  watchdog?: boolean;
  /** Serial on this process's stdio instead of a file (make run). */
  interactive?: boolean;
  /** Fixed host port for 8443 (default: a free one). */
  hostPort?: number;
  /** Where run artifacts go (default: a temp dir). */
  runDir?: string;
}

let accelCache: "kvm" | "tcg" | undefined;

/** KVM when it can really run an OVMF guest here, else TCG (QX_ACCEL overrides). */
export function detectAccel(): "kvm" | "tcg" {
  accelCache ??= probeAccel();
  return accelCache;
}

function probeAccel(): "kvm" | "tcg" {
  const forced = process.env.QX_ACCEL;
  if (forced === "kvm" || forced === "tcg") return forced;
  if (!existsSync("/dev/kvm")) return "tcg";
  const dir = mkdtempSync(join(tmpdir(), "qx-kvmprobe-"));
  try {
    copyFileSync(OVMF_VARS, join(dir, "vars.fd"));
    const log = join(dir, "serial.log");
    spawnSync(
      "timeout",
      [
        "12",
        QEMU,
        "-accel",
        "kvm",
        "-machine",
        "q35",
        "-m",
        "256",
        "-nodefaults",
        "-display",
        "none",
        "-serial",
        `file:${log}`,
        "-drive",
        `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`,
        "-drive",
        `if=pflash,format=raw,file=${join(dir, "vars.fd")}`,
      ],
      { stdio: "ignore" },
    );
    const out = existsSync(log) ? readFileSync(log, "utf8") : "";
    return /BdsDxe|Shell>|UEFI/.test(out) ? "kvm" : "tcg";
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const TERMINAL_CODES = /\x1b\[[0-9;?=]*[A-Za-z\]]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-B]|\x1b[=>78]/g;

/**
 * Output without CSI/OSC sequences (cursor moves, clears, modes), one space where a
 * sequence was; `rawEnd[i]` is the offset in `text` just after stripped character i.
 */
export function stripTerminalCodes(text: string): { plain: string; rawEnd: number[] } {
  let plain = "";
  const rawEnd: number[] = [];
  let from = 0;
  const keep = (chunk: string, start: number): void => {
    plain += chunk;
    for (let i = 1; i <= chunk.length; i++) rawEnd.push(start + i);
  };
  for (const m of text.matchAll(TERMINAL_CODES)) {
    keep(text.slice(from, m.index), from);
    plain += " ";
    rawEnd.push(m.index + m[0].length);
    from = m.index + m[0].length;
  }
  keep(text.slice(from), from);
  return { plain, rawEnd };
}

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? resolvePort(a.port) : reject(new Error("no port"))));
    });
  });
}

export class Vm {
  readonly api: ApiClient;
  readonly agent: GuestAgent;
  private proc: ChildProcess | undefined;
  private qmp: QmpClient | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private cursor = 0;

  private constructor(
    readonly opts: Required<Pick<VmOptions, "name" | "firmware" | "memoryMiB" | "cpus">> & VmOptions,
    readonly runDir: string,
    readonly hostPort: number,
    readonly accel: "kvm" | "tcg",
  ) {
    this.api = new ApiClient(`https://127.0.0.1:${hostPort}`);
    this.agent = new GuestAgent(join(runDir, "agent.sock"));
  }

  get serialLog(): string {
    return join(this.runDir, "serial.log");
  }

  /** Prepares the overlay and firmware, then starts QEMU. */
  static async start(options: VmOptions): Promise<Vm> {
    const opts = { firmware: "uefi" as const, memoryMiB: 2048, cpus: 2, ...options };
    const runDir = options.runDir ?? mkdtempSync(join(tmpdir(), `qx-vm-${opts.name}-`));
    mkdirSync(runDir, { recursive: true });
    const vm = new Vm(opts, runDir, options.hostPort ?? (await freePort()), detectAccel());
    if (opts.disk) {
      const r = spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "raw", "-b", resolve(opts.disk), join(runDir, "disk.qcow2")]);
      if (r.status !== 0) throw new Error(`qemu-img create: ${r.stderr}`);
    }
    if (opts.blankDiskBytes) {
      spawnSync("qemu-img", ["create", "-q", "-f", "qcow2", join(runDir, "blank.qcow2"), String(opts.blankDiskBytes)]);
    }
    if (opts.firmware === "uefi") copyFileSync(OVMF_VARS, join(runDir, "vars.fd"));
    await vm.launch();
    return vm;
  }

  private args(): string[] {
    const o = this.opts;
    const a = [
      "-name",
      `quantix-${o.name}`,
      "-accel",
      // One TCG thread for all vCPUs: with multi-threaded TCG the guest kernel patching
      // its own code (static keys, on module loads) while the other vCPU runs it has
      // crashed the guest ("Oops: int3" in finish_task_switch, a jump into the middle of
      // __schedule) a few times in a hundred boots: enough to fail a CI run now and then.
      this.accel === "tcg" ? "tcg,thread=single" : "kvm",
      "-machine",
      "q35",
      "-cpu",
      // TCG: an Intel model, whose VMX TCG does not emulate, so the guest has no KVM.
      // With "max" (emulated SVM) the guest's kvm_amd is loaded, and libvirtd's QEMU probe
      // flips static keys in __schedule while the other vCPU runs it: the guest kernel
      // then crashed at __schedule+0x432 (a jump into the middle of the patched jmp).
      // "max,svm=off" is no way out: static glibc then aborts in the initramfs.
      this.accel === "kvm" ? "host" : TCG_CPU,
      "-m",
      String(o.memoryMiB),
      "-smp",
      String(o.cpus),
      "-nodefaults",
      "-display",
      "none",
      "-vga",
      "std",
      "-qmp",
      `unix:${join(this.runDir, "qmp.sock")},server=on,wait=off`,
      "-netdev",
      `user,id=net0,hostfwd=tcp:127.0.0.1:${this.hostPort}-:8443`,
      "-device",
      "virtio-net-pci,netdev=net0",
      "-chardev",
      `socket,id=qga0,path=${join(this.runDir, "agent.sock")},server=on,wait=off`,
      "-device",
      "virtio-serial-pci",
      "-device",
      "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
      "-device",
      "virtio-rng-pci",
    ];
    if (o.interactive) a.push("-serial", "mon:stdio");
    else a.push("-serial", `file:${this.serialLog}`);
    if (o.firmware === "uefi") {
      a.push("-drive", `if=pflash,format=raw,readonly=on,file=${OVMF_CODE}`, "-drive", `if=pflash,format=raw,file=${join(this.runDir, "vars.fd")}`);
    }
    // A system disk boots first: with a data ISO attached (the update media), OVMF
    // otherwise tries the CD-ROM first at every boot, which costs ~25 s under TCG.
    if (o.disk) {
      a.push("-drive", `file=${join(this.runDir, "disk.qcow2")},if=none,id=disk0,format=qcow2,cache=unsafe`);
      a.push("-device", "virtio-blk-pci,drive=disk0,bootindex=0");
    }
    if (o.blankDiskBytes) a.push("-drive", `file=${join(this.runDir, "blank.qcow2")},if=virtio,format=qcow2,cache=unsafe`);
    if (o.iso) a.push("-drive", `file=${resolve(o.iso)},media=cdrom,readonly=on`);
    if (o.watchdog) a.push("-device", "i6300esb", "-action", "watchdog=reset");
    return a;
  }

  private async launch(): Promise<void> {
    if (!this.opts.interactive) rmSync(this.serialLog, { force: true });
    this.cursor = 0;
    const proc = spawn(QEMU, this.args(), { stdio: this.opts.interactive ? "inherit" : ["ignore", "ignore", "pipe"] });
    this.proc = proc;
    let stderr = "";
    proc.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    this.exited = new Promise((res) => proc.on("exit", (code) => res(code)));
    proc.on("exit", (code) => {
      if (code && !this.stopping) process.stderr.write(`qemu (${this.opts.name}) exited ${code}: ${stderr.trim()}\n`);
    });
    this.qmp = await QmpClient.connect(join(this.runDir, "qmp.sock"));
  }

  private stopping = false;

  /** Serial output so far. */
  serial(): string {
    return existsSync(this.serialLog) ? readFileSync(this.serialLog, "latin1") : "";
  }

  /** Future `waitFor`s only look at output from now on. */
  mark(): void {
    this.cursor = this.serial().length;
  }

  /**
   * Waits for `re` in the serial output after the mark; throws naming the log on timeout.
   * `plain`: match the text with terminal control sequences removed (the DCUI paints
   * the serial console with cursor moves).
   */
  async waitFor(re: RegExp, timeoutMs: number, o: { plain?: boolean } = {}): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const raw = this.serial().slice(this.cursor);
      const stripped = o.plain ? stripTerminalCodes(raw) : null;
      const m = re.exec(stripped?.plain ?? raw);
      if (m) {
        const end = (m.index ?? 0) + m[0].length;
        this.cursor += stripped ? (end > 0 ? (stripped.rawEnd[end - 1] ?? raw.length) : 0) : end;
        return m;
      }
      if (Date.now() > deadline) throw new Error(`${this.opts.name}: no ${re} on the serial console within ${timeoutMs / 1000} s (log: ${this.serialLog})`);
      if (this.proc?.exitCode !== null && this.proc?.exitCode !== undefined) {
        throw new Error(`${this.opts.name}: QEMU exited (${this.proc.exitCode}) while waiting for ${re} (log: ${this.serialLog})`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * Polls GET /api/v1/health until it answers `status` (200 by default) and, if given,
   * `where` accepts the document (components come up one by one during a boot).
   */
  async waitHealth(timeoutMs: number, status = 200, where: (h: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      try {
        const r = await this.api.get("/api/v1/health");
        last = `${r.status} ${r.body}`;
        if (r.status === status && where(r.json<Record<string, unknown>>())) return r.json<Record<string, unknown>>();
      } catch (e) {
        last = String(e);
      }
      await new Promise((r) => setTimeout(r, 2000));
    }
    throw new Error(`${this.opts.name}: health never answered ${status} within ${timeoutMs / 1000} s; last: ${last.slice(0, 400)} (log: ${this.serialLog})`);
  }

  /** Hard reset, like pressing the reset button (a power cut for the disk). */
  async reset(): Promise<void> {
    this.mark();
    await this.qmp?.execute("system_reset");
  }

  /**
   * What QEMU says about a guest that has gone quiet: run state and CPU registers
   * (e.g. stuck in firmware after a reset), for error messages.
   */
  async diagnose(): Promise<string> {
    try {
      const status = (await this.qmp?.execute("query-status")) as { status?: string } | undefined;
      const regs = String(await this.qmp?.execute("human-monitor-command", { "command-line": "info registers -a" }));
      const rips = [...regs.matchAll(/RIP=([0-9a-f]+)/g)].map((m) => m[1]).join(", ");
      const events = (this.qmp?.events ?? []).map((e) => String(e.event)).join(" ");
      return `QEMU status ${status?.status ?? "?"}; vCPU RIP ${rips || "?"}; QMP events: ${events || "none"}`;
    } catch (e) {
      return `QEMU did not answer: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** ACPI power button. */
  async powerdown(): Promise<void> {
    await this.qmp?.execute("system_powerdown");
  }

  /**
   * A clean power-off (ACPI button; the guest shuts down and QEMU exits), then QEMU
   * started again on the same disk: a cold second boot.
   */
  async restart(timeoutMs = 300_000): Promise<void> {
    this.agent.close();
    this.stopping = true;
    await this.qmp?.execute("system_powerdown");
    const t = setTimeout(() => this.proc?.kill("SIGKILL"), timeoutMs);
    await this.exited;
    clearTimeout(t);
    this.qmp?.close();
    this.stopping = false;
    await this.launch();
  }

  /** Kills QEMU (power cut) and starts it again on the same disk. */
  async powerCycle(): Promise<void> {
    this.agent.close();
    this.stopping = true;
    this.proc?.kill("SIGKILL");
    await this.exited;
    this.qmp?.close();
    this.stopping = false;
    await this.launch();
  }

  async stop(): Promise<void> {
    this.agent.close();
    this.stopping = true;
    try {
      await this.qmp?.execute("quit");
    } catch {
      this.proc?.kill("SIGKILL");
    }
    const t = setTimeout(() => this.proc?.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(t);
    this.qmp?.close();
  }

  /** Removes the run directory (call only when the test passed: failures keep their logs). */
  cleanup(): void {
    rmSync(this.runDir, { recursive: true, force: true });
  }
}
