import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { VirshEvents } from "./virsh-events.ts";

/**
 * A fake `virsh` on PATH: `event --all --loop` prints what $QX_FAKE_EVENTS says, one
 * line per 50 ms, then stays (or, with QX_FAKE_FAIL, complains on stderr and exits).
 */
const FAKE = `#!/bin/sh
echo "$*" >>"$QX_FAKE_LOG"
printf '%s\\n' "$QX_FAKE_EVENTS" | while IFS= read -r line; do sleep 0.05; [ -n "$line" ] && echo "$line"; done
if [ -n "$QX_FAKE_FAIL" ]; then echo "error: Disconnected from qemu:///system due to end of file" >&2; exit 1; fi
exec sleep 600
`;

describe("virsh event watcher (a fake virsh on PATH)", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-virsh-events-"));
    await writeFile(join(dir, "virsh"), FAKE);
    await chmod(join(dir, "virsh"), 0o755);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const env = (extra: Record<string, string>) => ({ PATH: `${dir}:${process.env["PATH"] ?? ""}`, QX_FAKE_LOG: join(dir, "log"), ...extra });
  const until = async (ok: () => boolean, ms = 5000) => {
    const end = Date.now() + ms;
    while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(ok(), "condition not met in time");
  };

  it("reports the domain of each event, everything on a line it cannot read, and is trusted only after settling", async () => {
    const seen: (string | null)[] = [];
    const ev = new VirshEvents("qemu:///test", {
      env: env({ QX_FAKE_EVENTS: "event 'lifecycle' for domain 'web-1': Started Booted\nsomething else\nevent 'device-added' for domain 'db': device: net0" }),
      onChange: (n) => seen.push(n),
      settleMs: 300,
    });
    try {
      assert.equal(ev.watching(), false, "just started");
      await until(() => seen.length === 3);
      assert.deepEqual(seen, ["web-1", null, "db"]);
      await until(() => ev.watching());
    } finally {
      ev.close();
    }
  });

  it("a watcher that fails reports everything changed and is started again by the next call", async () => {
    const seen: (string | null)[] = [];
    const ev = new VirshEvents("qemu:///test", { env: env({ QX_FAKE_EVENTS: "", QX_FAKE_FAIL: "1" }), onChange: (n) => seen.push(n), settleMs: 0 });
    try {
      ev.watching();
      await until(() => seen.includes(null));
      assert.equal(ev.watching(), true, "a new watcher was started (settleMs 0)");
      await until(() => seen.filter((s) => s === null).length >= 2);
    } finally {
      ev.close();
    }
  });
});
