import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { hostsWithHostname } from "./hostname.ts";

describe("hostsWithHostname", () => {
  it("replaces the 127.0.1.1 line and keeps the others", () => {
    const text = "127.0.0.1\tlocalhost\n127.0.1.1\tquantix\n::1\tlocalhost\n";
    assert.equal(hostsWithHostname(text, "quantix-ab12"), "127.0.0.1\tlocalhost\n127.0.1.1\tquantix-ab12\n::1\tlocalhost\n");
  });
  it("adds the line after localhost when there is none", () => {
    assert.equal(hostsWithHostname("127.0.0.1 localhost\n::1 localhost", "n1"), "127.0.0.1 localhost\n127.0.1.1\tn1\n::1 localhost\n");
  });
  it("is a fixed point", () => {
    const once = hostsWithHostname("127.0.0.1\tlocalhost\n", "n1");
    assert.equal(hostsWithHostname(once, "n1"), once);
  });
});
