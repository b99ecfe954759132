import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseShellVars } from "./shell-vars.ts";

describe("shell-style KEY=value files", () => {
  it("reads bare, single- and double-quoted values, skipping comments", () => {
    const v = parseShellVars(
      "# comment\nQX_VERSION=1.0.0\nQX_CONFIG='error:mount /dev/vda4 failed: it'\\''s bad'\nNAME=\"Quantix \\\"OS\\\"\"\n\nexport QX_T=5 # trailing\nnot a line\n",
    );
    assert.equal(v.get("QX_VERSION"), "1.0.0");
    assert.equal(v.get("QX_CONFIG"), "error:mount /dev/vda4 failed: it's bad");
    assert.equal(v.get("NAME"), 'Quantix "OS"');
    assert.equal(v.get("QX_T"), "5");
    assert.equal(v.size, 4);
  });
});
