import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseBlocks } from "./sse.ts";

describe("web/sse parseBlocks", () => {
  it("parses named and unnamed events, skips keep-alive comments, keeps the incomplete rest", () => {
    const text = ': keepalive\n\nevent: task\ndata: {"id":"t1"}\n\ndata: {"lines":["a","b"]}\n\nevent: vm\ndata: {"na';
    const { events, rest } = parseBlocks(text);
    assert.deepEqual(events, [
      { type: "task", data: { id: "t1" } },
      { type: "message", data: { lines: ["a", "b"] } },
    ]);
    assert.equal(rest, 'event: vm\ndata: {"na');
    assert.deepEqual(parseBlocks(`${rest}me":"x"}\n\n`).events, [{ type: "vm", data: { name: "x" } }]);
  });
});
