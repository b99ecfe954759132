import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DomainCache } from "./domain-cache.ts";
import { parseDomainStats, parseDomstats } from "./virsh-driver.ts";
import { eventDomains, lifecycleOf } from "./virsh-events.ts";

describe("virsh output", () => {
  it("domstats --state: names (with quotes and spaces) and states", () => {
    const out = "Domain: 'web-1'\n  state.state=1\n  state.reason=1\n\nDomain: 'it's a vm'\n  state.state=5\n  state.reason=0\n\nDomain: 'odd'\n  state.state=0\n";
    assert.deepEqual(parseDomstats(out), [
      { name: "web-1", state: "running" },
      { name: "it's a vm", state: "shutoff" },
      { name: "odd", state: "unknown" },
    ]);
    assert.deepEqual(parseDomstats(""), []);
  });

  it("domstats counters: CPU time, balloon in KiB, disks and NICs summed", () => {
    const out = [
      "Domain: 'web-1'",
      "  cpu.time=12500000000",
      "  cpu.user=9000000000",
      "  balloon.current=1048576",
      "  balloon.maximum=1048576",
      "  balloon.rss=524288",
      "  block.count=2",
      "  block.0.name=vda",
      "  block.0.rd.bytes=1000",
      "  block.0.wr.bytes=2000",
      "  block.1.name=sda",
      "  block.1.rd.bytes=500",
      "  block.1.wr.reqs=3",
      "  net.count=1",
      "  net.0.name=vnet0",
      "  net.0.rx.bytes=700",
      "  net.0.tx.bytes=300",
      "",
      "Domain: 'idle'",
      "  cpu.time=1",
      "",
    ].join("\n");
    assert.deepEqual(parseDomainStats(out), [
      { name: "web-1", cpuTimeNs: 12.5e9, memoryBytes: 1 << 30, memoryRssBytes: 512 << 20, diskReadBytes: 1500, diskWriteBytes: 2000, netRxBytes: 700, netTxBytes: 300 },
      { name: "idle", cpuTimeNs: 1, memoryBytes: 0, memoryRssBytes: null, diskReadBytes: 0, diskWriteBytes: 0, netRxBytes: 0, netTxBytes: 0 },
    ]);
  });

  it("event lines name the domain; a name containing ': is reported under every possible split", () => {
    assert.deepEqual(eventDomains("event 'lifecycle' for domain 'web-1': Defined Updated"), ["web-1"]);
    assert.deepEqual(eventDomains("event 'metadata-change' for domain 'x'y': type description, uri <null>"), ["x'y"]);
    assert.deepEqual(eventDomains("event 'lifecycle' for domain 'a': b': Started Booted"), ["a", "a': b"]);
    assert.equal(eventDomains("events received: 3"), null);
    assert.equal(eventDomains("event 'lifecycle' for domain 'broken"), null);
  });

  it("lifecycle lines give the domain, libvirt's event and its detail; other lines give nothing", () => {
    assert.deepEqual(lifecycleOf("event 'lifecycle' for domain 'web-1': Stopped Shutdown"), { name: "web-1", event: "Stopped", detail: "Shutdown" });
    assert.deepEqual(lifecycleOf("event 'lifecycle' for domain 'a': b': Started Booted"), { name: "a': b", event: "Started", detail: "Booted" });
    assert.deepEqual(lifecycleOf("event 'lifecycle' for domain 'x': Crashed"), { name: "x", event: "Crashed", detail: null });
    assert.equal(lifecycleOf("event 'reboot' for domain 'web-1'"), null);
    assert.equal(lifecycleOf("event 'lifecycle' for domain 'web-1': Exploded Loudly"), null);
  });
});

describe("domain cache", () => {
  it("serves XML only for the state it was read in", () => {
    const c = new DomainCache();
    c.store(c.ticket(), "a", "shutoff", "<a/>");
    assert.equal(c.lookup("a", "shutoff"), "<a/>");
    assert.equal(c.lookup("a", "running"), undefined);
  });

  it("refuses to store XML read across an invalidation of that domain or of everything", () => {
    const c = new DomainCache();
    let t = c.ticket();
    c.invalidate("a");
    c.store(t, "a", "shutoff", "<old/>");
    c.store(t, "b", "shutoff", "<b/>");
    assert.equal(c.lookup("a", "shutoff"), undefined, "a changed while its XML was read");
    assert.equal(c.lookup("b", "shutoff"), "<b/>", "b did not");
    t = c.ticket();
    c.clear();
    c.store(t, "b", "shutoff", "<b2/>");
    assert.equal(c.lookup("b", "shutoff"), undefined);
    t = c.ticket();
    c.store(t, "a", "shutoff", "<new/>");
    assert.equal(c.lookup("a", "shutoff"), "<new/>");
    c.invalidate("a");
    assert.equal(c.lookup("a", "shutoff"), undefined);
  });

  it("retain drops domains that are gone", () => {
    const c = new DomainCache();
    const t = c.ticket();
    for (const n of ["a", "b", "c"]) c.store(t, n, "shutoff", `<${n}/>`);
    c.retain(new Set(["b"]));
    assert.equal(c.size, 1);
    assert.equal(c.lookup("b", "shutoff"), "<b/>");
  });
});
