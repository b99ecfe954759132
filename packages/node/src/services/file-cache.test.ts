import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { FileCache, RACY_MS } from "./file-cache.ts";

describe("file cache", () => {
  let dir = "";
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "qx-file-cache-"));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  /** A cache of `file`'s text whose clock is `RACY_MS` ahead, so the file looks settled. */
  function counting(file: string, ahead = RACY_MS + 1000) {
    let loads = 0;
    const cache = new FileCache(
      [file],
      async () => {
        loads++;
        return readFile(file, "utf8").catch(() => null);
      },
      () => Date.now() + ahead,
    );
    return { cache, loads: () => loads };
  }

  it("reads a settled file once, and again when it changes (even to the same size) or disappears", async () => {
    const file = join(dir, "a.yaml");
    await writeFile(file, "one\n");
    const c = counting(file);
    assert.equal(await c.cache.get(), "one\n");
    assert.equal(await c.cache.get(), "one\n");
    assert.equal(c.loads(), 1);
    await writeFile(file, "two\n");
    assert.equal(await c.cache.get(), "two\n");
    assert.equal(c.loads(), 2);
    await rm(file);
    assert.equal(await c.cache.get(), null);
    assert.equal(await c.cache.get(), null);
    assert.equal(c.loads(), 3);
  });

  it("reads a file changed within the last RACY_MS again at every call", async () => {
    const file = join(dir, "b.yaml");
    await writeFile(file, "x\n");
    const c = counting(file, 0);
    await c.cache.get();
    await c.cache.get();
    assert.equal(c.loads(), 2);
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old); // the status-change time is still now
    await c.cache.get();
    assert.equal(c.loads(), 3);
  });

  it("does not keep a failed load", async () => {
    let n = 0;
    const cache = new FileCache([join(dir, "none")], async () => {
      n++;
      if (n === 1) throw new Error("boom");
      return n;
    });
    await assert.rejects(cache.get(), /boom/);
    assert.equal(await cache.get(), 2);
  });
});
