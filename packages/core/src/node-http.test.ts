import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";

/** Whether a fresh Node.js process has loaded undici after `code` (an ES module). */
function loadsUndici(code: string): boolean {
  const probe = `${code}\nconsole.log(process.moduleLoadList.some((m) => m.includes("undici")));`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", probe], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim() === "true";
}

describe("node-http", () => {
  it("is node:http's request", async () => {
    const { httpRequest } = await import("./node-http.ts");
    const { request } = await import("node:http");
    assert.equal(httpRequest, request);
  });

  it("does not load undici where an ESM import of node:http does (Node.js 22)", (t) => {
    if (!loadsUndici('import "node:http";')) {
      t.skip(`Node.js ${process.version}: an ESM import of node:http does not load undici here either`);
      return;
    }
    assert.equal(loadsUndici(`import { httpRequest } from ${JSON.stringify(new URL("./node-http.ts", import.meta.url).href)}; httpRequest;`), false);
  });
});
