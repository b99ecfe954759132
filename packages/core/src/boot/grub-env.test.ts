import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GrubEnvError } from "../errors.ts";
import { run } from "../exec.ts";
import { decodeGrubEnv, encodeGrubEnv, GRUBENV_HEADER, GRUBENV_WARNING, readGrubEnvFile, writeGrubEnvFile } from "./grub-env.ts";

const SAMPLE: Record<string, string> = {
  qx_seq: "7",
  qx_primary: "B",
  plain: "value with spaces = and # signs",
  backslash: "C:\\path\\to",
  multi: "line1\nline2",
  empty: "",
  unicode: "Über-Knoten",
  qx_seq_end: "7",
};

describe("grub-env format", () => {
  it("encodes exactly 1024 bytes: header, key=value lines, # padding", () => {
    const b = encodeGrubEnv({ a: "1", b: "two" });
    assert.equal(b.length, 1024);
    const text = b.toString("latin1");
    assert.ok(text.startsWith(`${GRUBENV_HEADER}${GRUBENV_WARNING}a=1\nb=two\n#`));
    assert.match(text.slice(GRUBENV_HEADER.length + GRUBENV_WARNING.length + 10), /^#+$/);
  });

  it("round-trips values with backslashes, newlines, spaces and unicode", () => {
    const decoded = decodeGrubEnv(encodeGrubEnv(SAMPLE));
    assert.deepEqual(Object.fromEntries(decoded), SAMPLE);
  });

  it("rejects invalid keys and oversize content with clear errors", () => {
    for (const key of ["", "1abc", "a-b", "a=b", "a b", "a\nb"]) {
      assert.throws(() => encodeGrubEnv({ [key]: "x" }), (e: unknown) => e instanceof GrubEnvError && /invalid GRUB environment key/.test(e.message));
    }
    assert.throws(
      () => encodeGrubEnv({ big: "x".repeat(1000) }),
      (e: unknown) => e instanceof GrubEnvError && /more than the 1024-byte block/.test(e.message),
    );
    // exactly full is fine: header (25) + "k=" + value + "\n"
    const room = 1024 - GRUBENV_HEADER.length - GRUBENV_WARNING.length - 3;
    assert.equal(encodeGrubEnv({ k: "v".repeat(room) }).length, 1024);
    assert.throws(() => encodeGrubEnv({ k: "v".repeat(room + 1) }), GrubEnvError);
  });

  it("refuses a block without the header", () => {
    assert.throws(() => decodeGrubEnv(Buffer.alloc(1024, 0)), (e: unknown) => e instanceof GrubEnvError && /header missing/.test(e.message));
    assert.throws(() => decodeGrubEnv(Buffer.from("# GRUB")), GrubEnvError);
  });

  it("stops at a torn line as GRUB does (unterminated last value is dropped)", () => {
    const torn = Buffer.from(`${GRUBENV_HEADER}a=1\nb=2`);
    assert.deepEqual(Object.fromEntries(decodeGrubEnv(torn)), { a: "1" });
  });
});

describe("grub-env compatibility with grub-editenv (integration)", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-grubenv-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("a block written by the core library is listed correctly by grub-editenv", async () => {
    const file = join(dir, "ours");
    await writeGrubEnvFile(file, SAMPLE);
    const { stdout } = await run("grub-editenv", [file, "list"]);
    const expected = Object.entries(SAMPLE).map(([k, v]) => `${k}=${v}`).join("\n");
    assert.equal(stdout.trimEnd(), expected);
  });

  it("a block written by grub-editenv is read correctly by the core library, byte for byte", async () => {
    const file = join(dir, "theirs");
    await run("grub-editenv", [file, "create"]);
    const args = Object.entries(SAMPLE).map(([k, v]) => `${k}=${v}`);
    await run("grub-editenv", [file, "set", ...args]);
    const env = await readGrubEnvFile(file);
    assert.deepEqual(Object.fromEntries(env), SAMPLE);
    // Our encoder produces the identical bytes.
    assert.deepEqual(encodeGrubEnv(SAMPLE), await readFile(file));
  });

  it("grub-editenv edits of our file keep our other values", async () => {
    const file = join(dir, "mixed");
    await writeGrubEnvFile(file, { qx_seq: "1", qx_A_tries: "3", qx_seq_end: "1" });
    await run("grub-editenv", [file, "set", "qx_A_tries=2"]);
    await run("grub-editenv", [file, "unset", "qx_seq_end"]);
    assert.deepEqual(Object.fromEntries(await readGrubEnvFile(file)), { qx_seq: "1", qx_A_tries: "2" });
  });

  it("an empty file written by grub-editenv create decodes to no variables", async () => {
    const file = join(dir, "empty");
    await run("grub-editenv", [file, "create"]);
    assert.equal((await readGrubEnvFile(file)).size, 0);
    await writeFile(join(dir, "garbage"), "not an env block");
    await assert.rejects(readGrubEnvFile(join(dir, "garbage")), /header missing/);
  });
});
