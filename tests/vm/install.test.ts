/**
 * VM tier, installer (boots shared between scenarios):
 *  UEFI  1. the ISO live with a blank 4 GiB virtio disk and an answers disk (ISO9660
 *           labelled QX_ANSWERS: disk, erase, hostname, admin password hash,
 *           after: poweroff) → unattended install → power off;
 *        2. the installed disk alone (no ISO): first boot, cut (QEMU killed) right
 *           after qx-firstboot created the identity;
 *        3. the next boot completes the first boot with that one node_id and reaches
 *           healthy; the answers' hostname and admin password are in force; a 1 GiB
 *           disk and the boot disk are refused with nothing written.
 *  BIOS  4. the same install from the ISO under SeaBIOS, 5. the disk boots under
 *           SeaBIOS to healthy.
 * The answers disk rides on the `disk` slot (vda), the install target is the blank disk (vdb).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { hashPassword } from "@quantix/node/services/password-hash";
import { Vm } from "./lib/qemu.ts";

const ISO = process.env.QX_ISO;
const GiB = 2 ** 30;
const BOOT_TIMEOUT = 300_000;
const INSTALL_TIMEOUT = 600_000;
const PASSWORD = "vm-install-Secret-42";
const HOSTNAME = "qx-vmtest";
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Stops QEMU; bounded, because QMP never answers once the guest has powered QEMU off. */
async function stopVm(vm: Vm): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([vm.stop().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, 15_000)))]);
  clearTimeout(timer);
}

/** Waits until QEMU exits by itself (the guest powered off). */
async function waitPowerOff(vm: Vm, timeoutMs: number): Promise<void> {
  try {
    await vm.waitFor(/\u0000never\u0000/, timeoutMs);
  } catch (e) {
    if (/QEMU exited/.test(String(e))) return;
    throw e;
  }
}

interface InstallReport {
  version: string;
  disk: string;
  totalMs: number;
  phases: { name: string; ms: number; detail?: string }[];
}

/** Boots the ISO with the answers disk and a blank target; returns the install report and the installed disk (raw). */
async function installFromIso(work: string, firmware: "uefi" | "bios", answersIso: string): Promise<{ report: InstallReport; disk: string; serialMs: number }> {
  const vm = await Vm.start({ name: `install-${firmware}`, iso: ISO!, disk: answersIso, blankDiskBytes: 4 * GiB, firmware, memoryMiB: 2048 });
  let ok = false;
  try {
    const t0 = Date.now();
    await vm.waitFor(/qx-install: unattended install of Quantix-OS \S+ on \/dev\/vdb/, BOOT_TIMEOUT);
    const started = Date.now();
    const m = await vm.waitFor(/qx-install: report (\{.*\})/, INSTALL_TIMEOUT);
    await vm.waitFor(/qx-install: done; poweroff now/, 30_000);
    const serialMs = Date.now() - started;
    await waitPowerOff(vm, 180_000);
    process.stdout.write(`# ${firmware}: ISO boot to installer start ${((started - t0) / 1000).toFixed(0)} s\n`);
    const disk = join(work, `installed-${firmware}.raw`);
    sh("qemu-img", ["convert", "-O", "raw", join(vm.runDir, "blank.qcow2"), disk]);
    ok = true;
    return { report: JSON.parse(m[1]!) as InstallReport, disk, serialMs };
  } finally {
    await stopVm(vm);
    if (ok) vm.cleanup();
    else process.stdout.write(`# VM logs kept: ${vm.serialLog}\n`);
  }
}

function describeReport(firmware: string, r: InstallReport, serialMs: number): void {
  const slot = r.phases.find((p) => p.name === "slot-a");
  const rest = r.totalMs - (slot?.ms ?? 0);
  process.stdout.write(
    `# ${firmware}: install ${(r.totalMs / 1000).toFixed(1)} s (serial ${(serialMs / 1000).toFixed(1)} s); slot A copy ${((slot?.ms ?? 0) / 1000).toFixed(1)} s (${((100 * (slot?.ms ?? 0)) / r.totalMs).toFixed(0)}%: ${slot?.detail ?? ""}), other ${(rest / 1000).toFixed(1)} s: ${r.phases
      .filter((p) => p.name !== "slot-a")
      .map((p) => `${p.name} ${(p.ms / 1000).toFixed(1)}`)
      .join(", ")}\n`,
  );
}

describe("installer (VM)", { timeout: 60 * 60_000 }, () => {
  let work = "";
  let answersIso = "";
  before(async () => {
    assert.ok(ISO, "QX_ISO must name the installer ISO");
    work = mkdtempSync(join(tmpdir(), "qx-vm-install-"));
    const dir = join(work, "answers");
    mkdirSync(dir);
    const hash = await hashPassword(PASSWORD);
    writeFileSync(
      join(dir, "answers.yaml"),
      [`disk: /dev/vdb`, "erase: true", `hostname: ${HOSTNAME}`, `admin_password_hash: "${hash}"`, "after: poweroff", ""].join("\n"),
    );
    answersIso = join(work, "answers.iso");
    sh("xorriso", ["-as", "mkisofs", "-quiet", "-V", "QX_ANSWERS", "-o", answersIso, dir]);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  let uefiDisk = "";
  it("UEFI: the ISO installs unattended from an answers disk and powers off", async () => {
    const r = await installFromIso(work, "uefi", answersIso);
    describeReport("uefi", r.report, r.serialMs);
    assert.equal(r.report.disk, "/dev/vdb");
    assert.deepEqual(
      r.report.phases.map((p) => p.name),
      ["partition", "bios-boot", "esp", "slot-a", "slot-b", "config", "data"],
    );
    uefiDisk = r.disk;
  });

  it("UEFI: the installed disk boots without the ISO; a power cut during the first boot leaves one node_id", async () => {
    assert.ok(uefiDisk, "needs the installed disk of the previous step");
    const vm = await Vm.start({ name: "installed-uefi", disk: uefiDisk, blankDiskBytes: GiB, firmware: "uefi" });
    let ok = false;
    try {
      await vm.waitFor(/Quantix-OS: booting slot A/, 120_000);
      const created = await vm.waitFor(/qx-firstboot: ensureIdentity: created node\.yaml: node_id ([0-9a-f-]{36})/, BOOT_TIMEOUT);
      const cutId = created[1]!;
      await vm.powerCycle(); // the power cut: QEMU killed, started again on the same disk
      const cutState = /qx-firstboot: markDone/.test(vm.serial()) ? "after markDone" : "before markDone";
      process.stdout.write(`# power cut right after the identity was created (${cutId}), serial shows the cut ${cutState}\n`);
      await vm.waitFor(/Quantix-OS: booting slot A/, 120_000);
      const health = await vm.waitHealth(BOOT_TIMEOUT, 200, (h) => h.status === "healthy");
      assert.equal(health.status, "healthy");
      await vm.agent.waitReady(60_000);
      const nodeYaml = await vm.agent.check("cat /quantix/node.yaml");
      const id = /node_id:\s*"?([0-9a-f-]{36})/.exec(nodeYaml)?.[1];
      assert.match(id ?? "", UUID_V4);
      assert.equal(id, cutId, "the identity created before the cut is kept");
      assert.match(nodeYaml, new RegExp(`hostname:\\s*"?${HOSTNAME}`));
      assert.match(await vm.agent.check("cat /quantix/firstboot.done"), new RegExp(`^node_id=${cutId}$`, "m"));
      assert.equal((await vm.agent.check("hostname")).trim(), HOSTNAME);
      assert.match(await vm.agent.check("ls /quantix/certificates"), /node\.crt/);
      const login = await vm.api.request("POST", "/api/v1/auth/login", { username: "admin", password: PASSWORD });
      assert.equal(login.status, 200, `admin password from the answers: ${login.body}`);
      // Refusals, nothing written: a 1 GiB disk, and the disk the node runs from.
      const small = await vm.agent.sh("/usr/local/bin/qx-install device /dev/vdb --yes");
      assert.equal(small.exitCode, 2, small.stderr);
      assert.match(small.stderr, /\/dev\/vdb: is 1 GiB, smaller than the .* Quantix-OS needs; nothing was written/);
      assert.equal((await vm.agent.check("dd if=/dev/vdb bs=1M count=4 status=none | tr -d '\\000' | wc -c")).trim(), "0");
      const self = await vm.agent.sh("/usr/local/bin/qx-install device /dev/vda --yes");
      assert.equal(self.exitCode, 2, self.stderr);
      assert.match(self.stderr, /\/dev\/vda: (is the disk this system booted from|is in use: mounted on)/);
      ok = true;
    } finally {
      await stopVm(vm);
      if (ok) vm.cleanup();
      else process.stdout.write(`# VM logs kept: ${vm.serialLog}\n`);
    }
  });

  it("legacy BIOS: the ISO installs and the disk boots to healthy", async () => {
    const r = await installFromIso(work, "bios", answersIso);
    describeReport("bios", r.report, r.serialMs);
    const vm = await Vm.start({ name: "installed-bios", disk: r.disk, firmware: "bios" });
    let ok = false;
    try {
      await vm.waitFor(/Quantix-OS: booting slot A/, 120_000);
      const health = await vm.waitHealth(BOOT_TIMEOUT, 200, (h) => h.status === "healthy");
      assert.equal(health.status, "healthy");
      ok = true;
    } finally {
      await stopVm(vm);
      if (ok) vm.cleanup();
      else process.stdout.write(`# VM logs kept: ${vm.serialLog}\n`);
    }
  });
});
