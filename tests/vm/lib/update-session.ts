/**
 * @module tests/vm/lib/update-session
 * One VM for a file of qx-update scenarios (update.test.ts, rollback.test.ts): the disk
 * image with version V in slot A, the update media ISO at /mnt/upd, and the guest-side
 * helpers the scenarios share (status, install, reboot, wait until the booted slot is
 * good). Registers the suite's before/after hooks; call it inside `describe`.
 *
 * Needs QX_DISK (version V in slot A), QX_SQUASHFS (V, signed) and QX_SQUASHFS_NEXT
 * (V-next, signed, .sha256/.sig beside it), all built with the same signing key.
 *
 * @example
 * ```ts
 * describe("qx-update (VM)", () => {
 *   const u = updateSession("update", ["panic"]);
 *   u.step("boots A", async () => { await u.up(); assert.equal((await u.settled()).booted, "A"); });
 * });
 * ```
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import { launchChromium } from "@quantix/web/test-browser";
import { Vm } from "./qemu.ts";
import { trackedSteps } from "./steps.ts";
import { brokenImage, type BrokenKind, imageVersion, MOUNT_MEDIA, mediaIso } from "./update-media.ts";

/**
 * Time for one boot (reset to health) under TCG on a 2-core host running two VMs:
 * ~150 s usually; 300 s was once too short while the host also ran mksquashfs.
 */
export const BOOT = 420_000;

export interface SlotView {
  slot: "A" | "B";
  status: string;
  tries: number;
  version: string | null;
  reason: string | null;
}
export interface Status {
  booted: "A" | "B" | null;
  trying: boolean;
  runningVersion: string;
  nextBoot: "A" | "B";
  slots: SlotView[];
  env: { source: string; problems: string[] };
  lastRollback: { slot: string; reason: string; why: string } | null;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const rand = (lo: number, hi: number) => lo + Math.random() * (hi - lo);
export const slot = (s: Status, n: "A" | "B") => s.slots.find((x) => x.slot === n) as SlotView;

export interface UpdateSession {
  readonly vm: Vm;
  /** Version in slot A of the disk image, and the next one (base.squashfs, next.squashfs on the media). */
  readonly base: string;
  readonly next: string;
  /** Seconds of the measured phases, printed after the suite. */
  readonly timing: Record<string, number>;
  step(name: string, f: () => Promise<void>): void;
  status(): Promise<Status>;
  /** Health 200, the guest agent answers, the media is mounted. */
  up(): Promise<void>;
  /** Waits until the booted slot is good (boot-check ran), returns the status. */
  settled(timeoutMs?: number): Promise<Status>;
  /** Reboots the guest (future waitFors look at output from now on). */
  reboot(): Promise<void>;
  /**
   * Starts an install of a media file, cuts the power (QMP reset) after a random
   * `lo`–`hi` seconds, and waits until the node is up again on a good slot.
   */
  cutDuringInstall(file: string, lo: number, hi: number): Promise<{ seconds: number; status: Status }>;
  /**
   * Reboots into the broken slot B, waits for each of `marks` on the serial console
   * (pattern, timeout) and then for slot A, up and settled; records the time under
   * `timing[key]` and returns the status.
   */
  rollBack(key: string, marks: ReadonlyArray<readonly [RegExp, number]>): Promise<Status>;
  /** Installs a media file with qx-update in the guest, asserting success. */
  install(file: string, o?: InstallOptions): Promise<{ result: { slot: string; version: string }; seconds: number }>;
  /** Uploads a media file's image with its signature through the node's HTTPS API (PUT /api/v1/update/image), asserting success. */
  installViaApi(file: string, o?: InstallOptions): Promise<{ result: { slot: string; version: string }; seconds: number }>;
  /** The same through the web UI's Update view in chromium (login, files, the downgrade box, "Upload and install"). */
  installViaWebUi(file: string, o?: InstallOptions): Promise<{ seconds: number }>;
}

export interface InstallOptions {
  /** The image is older than the running one (qx-update --allow-downgrade, ?allow_downgrade=true). */
  readonly allowDowngrade?: boolean;
}

/** The admin password the update scenarios set (through qx-node set-admin-password in the guest). */
const ADMIN_PASSWORD = "update-scenario-pw-1";

/**
 * Registers before/after hooks for one VM and returns the scenario helpers. `broken`
 * lists the broken images to build onto the media (as `${kind}.squashfs`, version
 * V-next-kind); base.squashfs and next.squashfs are always there.
 */
export function updateSession(name: string, broken: readonly BrokenKind[]): UpdateSession {
  const DISK = process.env.QX_DISK;
  const BASE = process.env.QX_SQUASHFS;
  const NEXT = process.env.QX_SQUASHFS_NEXT;
  const steps = trackedSteps();
  const timing: Record<string, number> = {};
  let vm: Vm | undefined;
  let work = "";
  let base = "";
  let next = "";
  /** Media file name → the file on the host (base and next only: the API uploads go from here). */
  const hostFiles: Record<string, string> = {};
  const theVm = (): Vm => {
    if (!vm) throw new Error("the VM did not start (see the before hook's error)");
    return vm;
  };

  before(async () => {
    assert.ok(DISK && BASE && NEXT, "QX_DISK, QX_SQUASHFS and QX_SQUASHFS_NEXT must be set (make vm-test)");
    base = imageVersion(BASE);
    next = imageVersion(NEXT);
    assert.notEqual(base, next);
    work = mkdtempSync(join(tmpdir(), `qx-vm-${name}-media-`));
    const media: Record<string, string> = { "base.squashfs": BASE, "next.squashfs": NEXT };
    Object.assign(hostFiles, media);
    for (const kind of broken) media[`${kind}.squashfs`] = brokenImage(NEXT, `${next}-${kind}`, kind, work);
    vm = await Vm.start({ name, disk: DISK, iso: mediaIso(media, work), watchdog: true });
    process.stdout.write(`# VM run dir ${vm.runDir} (accel ${vm.accel}); ${base} → ${next}\n`);
  });
  after(async () => {
    await vm?.stop();
    process.stdout.write(`# timings (s): ${JSON.stringify(timing)}\n`);
    if (steps.passed) {
      vm?.cleanup();
      if (work) rmSync(work, { recursive: true, force: true });
    } else process.stdout.write(`# VM logs kept: ${vm?.serialLog}\n`);
  });

  const status = async (): Promise<Status> =>
    JSON.parse(await theVm().agent.check("/usr/local/bin/qx-update status --json", 120_000)) as Status;

  return {
    get vm() {
      return theVm();
    },
    get base() {
      return base;
    },
    get next() {
      return next;
    },
    timing,
    step: steps.step,
    status,
    async up() {
      await theVm().waitHealth(BOOT);
      await theVm().agent.waitReady(60_000);
      await theVm().agent.check(MOUNT_MEDIA);
    },
    async settled(timeoutMs = 420_000) {
      const deadline = Date.now() + timeoutMs;
      let last = "";
      for (;;) {
        const s = await status().catch((e: Error) => {
          last = e.message;
          return null;
        });
        if (s?.booted && slot(s, s.booted).status === "good") return s;
        if (Date.now() > deadline) throw new Error(`booted slot never good: ${s ? JSON.stringify(s) : last}`);
        await sleep(5000);
      }
    },
    async reboot() {
      theVm().mark();
      await theVm().agent.sh("(sleep 1; reboot) >/dev/null 2>&1 &");
    },
    async cutDuringInstall(file, lo, hi) {
      await theVm().agent.check(
        `(/usr/local/bin/qx-update --image /mnt/upd/${file} >/tmp/qx-update.out 2>&1; echo "exit $?" >>/tmp/qx-update.out) >/dev/null 2>&1 &`,
      );
      const seconds = rand(lo, hi);
      await sleep(seconds * 1000);
      await theVm().reset();
      await this.up();
      return { seconds, status: await this.settled() };
    },
    async rollBack(key, marks) {
      const t0 = Date.now();
      await this.reboot();
      for (const [re, ms] of marks) await theVm().waitFor(re, ms);
      await theVm().waitFor(/Quantix-OS: booting slot A/, BOOT);
      await this.up();
      const s = await this.settled();
      timing[key] = (Date.now() - t0) / 1000;
      return s;
    },
    async install(file, o = {}) {
      const t0 = Date.now();
      const out = await theVm().agent.sh(`/usr/local/bin/qx-update --image /mnt/upd/${file}${o.allowDowngrade ? " --allow-downgrade" : ""} --json`, 600_000);
      assert.equal(out.exitCode, 0, out.stderr);
      return { result: JSON.parse(out.stdout) as { slot: string; version: string }, seconds: (Date.now() - t0) / 1000 };
    },
    async installViaApi(file, o = {}) {
      const host = hostFiles[file];
      assert.ok(host, `${file} is not on the host`);
      const token = await login();
      const t0 = Date.now();
      const r = await theVm().api.upload(
        "PUT",
        `/api/v1/update/image${o.allowDowngrade ? "?allow_downgrade=true" : ""}`,
        host,
        { authorization: `Bearer ${token}`, "x-qx-image-signature": readFileSync(`${host}.sig`).toString("base64") },
        900_000,
      );
      assert.equal(r.status, 200, `PUT /api/v1/update/image: ${r.status} ${r.body}`);
      const st = r.json<{ slots: { name: string; state: string; version: string | null }[] }>();
      const target = st.slots.find((x) => x.state === "trying");
      assert.ok(target, `a slot is on trial after the upload: ${r.body}`);
      return { result: { slot: target.name, version: target.version ?? "" }, seconds: (Date.now() - t0) / 1000 };
    },
    async installViaWebUi(file, o = {}) {
      const host = hostFiles[file];
      assert.ok(host, `${file} is not on the host`);
      await login();
      const browser = await launchChromium();
      try {
        const page = await browser.ctx.newPage();
        const t0 = Date.now();
        await page.goto(theVm().api.baseUrl);
        await page.fill("#login-password", ADMIN_PASSWORD);
        await page.click("#login-submit");
        await page.click('nav button[data-view="Update"]', { timeout: 120_000 });
        await page.setInputFiles("#update-file", host);
        await page.setInputFiles("#update-sig", `${host}.sig`);
        if (o.allowDowngrade) await page.check("#update-downgrade");
        await page.click("#update-upload");
        // A downgrade asks first (web/dialog).
        if (o.allowDowngrade) await page.click("#confirm-yes", { timeout: 60_000 });
        const done = page.getByText("Image installed to the inactive slot").or(page.getByRole("alert"));
        await done.waitFor({ timeout: 900_000 });
        const text = await done.textContent();
        assert.match(text ?? "", /Image installed to the inactive slot/);
        return { seconds: (Date.now() - t0) / 1000 };
      } finally {
        await browser.close();
      }
    },
  };

  /** Sets the admin password in the guest (ending every session) and logs in through the forwarded port. */
  async function login(): Promise<string> {
    await theVm().agent.check(`printf '%s' '${ADMIN_PASSWORD}' | /usr/local/bin/qx-node set-admin-password`, 60_000);
    const r = await theVm().api.request("POST", "/api/v1/auth/login", { username: "admin", password: ADMIN_PASSWORD }, {}, 60_000);
    assert.equal(r.status, 200, `login: ${r.body}`);
    return r.json<{ token: string }>().token;
  }
}
