import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError } from "@quantix/core";
import { hashPassword } from "@quantix/node/services/password-hash";
import { AnswerFile, seedFromAnswers } from "./answer-file.ts";
import { parseInstallCmdline } from "./cmdline.ts";
import { AnswersError, resolveAnswers } from "./source.ts";

const file = (text: string) => async () => ({ text, source: "/dev/sr1:answers.yaml" });

describe("installer kernel options", () => {
  it("parses the allow-listed options", () => {
    const r = parseInstallCmdline(
      "BOOT_IMAGE=x quiet qx.live=1 qx.install=/dev/vda qx.install.yes qx.install.mode=upgrade qx.install.data=lvm qx.install.after=poweroff qx.install.answers=MY_ANS",
    );
    assert.deepEqual(r.options, { disk: "/dev/vda", yes: true, mode: "upgrade", data: "lvm", after: "poweroff", answersLabel: "MY_ANS" });
    assert.deepEqual(r.warnings, []);
  });
  it("drops invalid values with a warning instead of guessing", () => {
    const r = parseInstallCmdline("qx.install=/dev/sda;reboot qx.install.yes=maybe qx.install.mode=wipe qx.install.data=zfs qx.install.after=dance qx.install.bogus=1");
    assert.deepEqual(r.options, {});
    assert.equal(r.warnings.length, 6);
    assert.match(r.warnings[0]!, /ignoring qx\.install=\/dev\/sda;reboot: expected a disk device/);
    assert.match(r.warnings[5]!, /unknown installer option qx\.install\.bogus=1/);
  });
});

describe("answer file", () => {
  it("validates with core's schemas and names the field", async () => {
    await assert.rejects(
      resolveAnswers({ cmdline: "", readLabel: file("hostname: Not_Valid\n") }),
      (e: unknown) => e instanceof AnswersError && /\/dev\/sr1:answers\.yaml: hostname: .*host name/.test(e.message) && e.cause instanceof ConfigError,
    );
    await assert.rejects(
      resolveAnswers({ cmdline: "", readLabel: file("network:\n  management:\n    mode: static\n") }),
      (e: unknown) => e instanceof AnswersError && /network\.management\.address: required when mode is static/.test(e.message),
    );
    await assert.rejects(resolveAnswers({ cmdline: "", readLabel: file("admin_password_hash: hunter2\n") }), /admin_password_hash: expected an scrypt hash/);
    await assert.rejects(resolveAnswers({ cmdline: "", readLabel: file("disk: /dev/vda\nwipe: yes\n") }), /wipe/);
  });

  it("is unattended only with a disk and the erase confirmed; kernel options win", async () => {
    const none = await resolveAnswers({ cmdline: "qx.live=1", readLabel: async () => null });
    assert.equal(none.unattended, false);
    assert.equal(none.disk, null);
    const diskOnly = await resolveAnswers({ cmdline: "qx.install=/dev/vda", readLabel: async () => null });
    assert.equal(diskOnly.unattended, false, "qx.install= alone preselects, it does not erase");
    const both = await resolveAnswers({ cmdline: "qx.install=/dev/vda qx.install.yes", readLabel: async () => null });
    assert.equal(both.unattended, true);
    const fromFile = await resolveAnswers({ cmdline: "", readLabel: file("disk: /dev/sdb\nerase: true\nafter: poweroff\n") });
    assert.deepEqual([fromFile.disk, fromFile.unattended, fromFile.after, fromFile.mode, fromFile.data], ["/dev/sdb", true, "poweroff", "install", "xfs"]);
    const overridden = await resolveAnswers({ cmdline: "qx.install=/dev/vdc qx.install.yes=0", readLabel: file("disk: /dev/sdb\nerase: true\n") });
    assert.deepEqual([overridden.disk, overridden.unattended], ["/dev/vdc", false]);
  });

  it("asks for the label given on the kernel command line", async () => {
    const asked: string[] = [];
    const readLabel = async (l: string) => {
      asked.push(l);
      return null;
    };
    await resolveAnswers({ cmdline: "qx.install.answers=PXE_ANS", readLabel });
    await resolveAnswers({ cmdline: "", readLabel });
    assert.deepEqual(asked, ["PXE_ANS", "QX_ANSWERS"]);
  });

  it("keeps only the first-boot values in the seed, with a real scrypt hash accepted", async () => {
    const hash = await hashPassword("s3cret-pass", { logN: 10, r: 8, p: 1 });
    const a = AnswerFile.parse({ disk: "/dev/vda", erase: true, hostname: "n1", admin_password_hash: hash });
    const seed = seedFromAnswers(a, "1.2.3", new Date("2026-01-02T03:04:05Z"));
    assert.deepEqual(seed, { installed_at: "2026-01-02T03:04:05.000Z", version: "1.2.3", hostname: "n1", admin_password_hash: hash });
    assert.equal(seedFromAnswers(AnswerFile.parse({ disk: "/dev/vda" }), "1.2.3"), null, "nothing for the first boot");
  });
});
