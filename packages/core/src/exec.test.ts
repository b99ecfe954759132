import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { describeExit, ExecError } from "./errors.ts";
import { run } from "./exec.ts";

describe("exec", () => {
  it("returns stdout and passes stdin", async () => {
    const r = await run("cat", [], { input: "hello" });
    assert.equal(r.stdout, "hello");
    assert.equal(r.exitCode, 0);
  });

  it("throws ExecError with command, exit code and stderr", async () => {
    await assert.rejects(run("sh", ["-c", "echo boom >&2; exit 3"]), (e: unknown) => {
      assert.ok(e instanceof ExecError);
      assert.equal(e.exitCode, 3);
      assert.equal(e.stderr.trim(), "boom");
      assert.match(e.message, /^sh -c .*: exit 3: boom$/);
      return true;
    });
  });

  it("names a missing command in words", async () => {
    await assert.rejects(run("qx-no-such-command-xyz"), (e: unknown) => {
      assert.ok(e instanceof ExecError);
      assert.equal(e.exitCode, 127);
      assert.match(e.message, /command not found/);
      return true;
    });
  });

  it("kills a child that runs past its timeout", async () => {
    const t0 = Date.now();
    await assert.rejects(run("sleep", ["10"], { timeoutMs: 200 }), (e: unknown) => e instanceof ExecError && e.signal === "SIGTERM");
    assert.ok(Date.now() - t0 < 3000);
  });

  it("allowFailure returns the exit code instead of throwing", async () => {
    const r = await run("false", [], { allowFailure: true });
    assert.equal(r.exitCode, 1);
  });

  it("describes common exit codes", () => {
    assert.equal(describeExit(126, null), "exit 126: command found but not executable");
    assert.equal(describeExit(null, "SIGKILL"), "killed by SIGKILL");
  });
});
