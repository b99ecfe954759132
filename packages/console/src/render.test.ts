import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bodyRows, fit, frame, HEIGHT, terminal, WIDTH } from "./render.ts";

describe("renderer", () => {
  for (const [footer, subtitle] of [
    [["one"], false],
    [["one", "two"], true],
    [["one", "two"], false],
  ] as const) {
    it(`a frame is ${HEIGHT} rows of ${WIDTH} columns (${footer.length} footer lines, subtitle ${subtitle})`, () => {
      const long = "x".repeat(200);
      const rows = frame({ title: long, subtitle: subtitle ? "sub" : undefined, body: Array(40).fill(`é${long}`), footer });
      assert.equal(rows.length, HEIGHT);
      for (const r of rows) assert.equal([...r].length, WIDTH, r);
      assert.match(rows[0]!, /^╔═+╗$/);
      assert.match(rows.at(-1)!, /^╚═+╝$/);
      assert.equal(rows.filter((r) => r.startsWith("║é")).length, bodyRows(footer.length, subtitle));
    });
  }

  it("fit cuts with an ellipsis and pads", () => {
    assert.equal(fit("abcdef", 4), "abc…");
    assert.equal(fit("ab", 4), "ab  ");
  });

  it("the terminal writer repaints only changed rows", () => {
    const out: string[] = [];
    const t = terminal({ write: (s: string) => out.push(s) });
    t.draw(["aaa", "bbb", "ccc"]);
    assert.match(out[0]!, /^\x1b\[H\x1b\[2J/);
    t.draw(["aaa", "BBB", "ccc"]);
    assert.equal(out[1], "\x1b[2;1HBBB");
    t.draw(["aaa", "BBB", "ccc"]);
    assert.equal(out.length, 2);
    t.reset();
    t.draw(["aaa", "BBB", "ccc"]);
    assert.match(out[2]!, /\x1b\[1;1Haaa\x1b\[2;1HBBB\x1b\[3;1Hccc$/);
  });
});
