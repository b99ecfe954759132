/**
 * @module virt/hypervisor-contract
 * The behaviour every {@link Hypervisor} must show, as one suite run against each
 * implementation: the in-memory one in unit tests (virt-hypervisor.test.ts), the
 * virsh driver against a real libvirtd in tests/integration/virt.test.ts. The domains
 * it defines are diskless and never started, so the suite is fast everywhere.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { domainXml } from "./domain-xml.ts";
import { VirtExistsError, VirtNotFoundError, VirtStateError } from "./errors.ts";
import type { Hypervisor } from "./hypervisor.ts";
import { VmSpec } from "./spec.ts";

/** Domain XML for a small shut-off test domain. */
export function contractXml(name: string, uuid: string = crypto.randomUUID(), memoryMib = 64): string {
  return domainXml({
    spec: VmSpec.parse({ name, memory_mib: memoryMib, description: "contract <test> & 'quotes'" }),
    uuid,
    type: "qemu",
    disks: [],
    nics: [],
    serialSocket: `/tmp/${name}.serial`,
    vncSocket: `/tmp/${name}.vnc`,
  });
}

/** Declares the contract tests (call inside a describe). */
export function hypervisorContract(make: () => Hypervisor, o: { prefix: string }): void {
  let hv: Hypervisor;
  const a = `${o.prefix}a`;
  const b = `${o.prefix}b`;
  before(() => {
    hv = make();
  });
  after(async () => {
    for (const n of [a, b]) await hv.undefine(n).catch(() => undefined);
  });

  it("defines, gets, lists and undefines a domain; the XML comes back with name and escaped text", async () => {
    const uuid = crypto.randomUUID();
    await hv.define(contractXml(a, uuid));
    const r = await hv.get(a);
    assert.ok(r);
    assert.equal(r.state, "shutoff");
    assert.equal(r.autostart, false);
    assert.match(r.xml, new RegExp(uuid));
    assert.match(r.xml, /contract &lt;test&gt; &amp; (&apos;|')quotes(&apos;|')/);
    await hv.define(contractXml(b));
    const names = (await hv.list()).map((d) => d.name).filter((n) => n.startsWith(o.prefix)).sort();
    assert.deepEqual(names, [a, b]);
    await hv.undefine(b);
    assert.equal(await hv.get(b), null);
  });

  it("refuses a second domain with the same name and another UUID", async () => {
    await assert.rejects(hv.define(contractXml(a)), VirtExistsError);
  });

  it("redefining with the same UUID updates the domain", async () => {
    const uuid = /<uuid>([^<]+)<\/uuid>/.exec((await hv.get(a))?.xml ?? "")?.[1];
    await hv.define(contractXml(a, uuid, 80));
    assert.match((await hv.get(a))?.xml ?? "", /<memory unit='KiB'>81920<\/memory>|<memory unit='MiB'>80<\/memory>/);
  });

  it("create is all or nothing: a taken name is refused and the other domain is untouched", async () => {
    const before = (await hv.get(a))?.xml;
    await assert.rejects(hv.create(contractXml(a), { autostart: true, start: true }), VirtExistsError);
    const after = await hv.get(a);
    assert.equal(after?.xml, before);
    assert.equal(after?.state, "shutoff");
    assert.equal(after?.autostart, false);
    const r = await hv.create(contractXml(b), { autostart: true, start: false });
    assert.equal(r.name, b);
    assert.equal(r.state, "shutoff");
    assert.equal(r.autostart, true);
    await hv.setAutostart(b, false);
    await hv.undefine(b);
  });

  it("autostart is reported", async () => {
    await hv.setAutostart(a, true);
    assert.equal((await hv.get(a))?.autostart, true);
    assert.equal((await hv.list()).find((d) => d.name === a)?.autostart, true);
    await hv.setAutostart(a, false);
    assert.equal((await hv.get(a))?.autostart, false);
  });

  it("power actions on a shut-off domain are state errors; unknown domains are not-found", async () => {
    await assert.rejects(hv.shutdown(a), VirtStateError);
    await assert.rejects(hv.destroy(a), VirtStateError);
    await assert.rejects(hv.start(`${o.prefix}nosuch`), VirtNotFoundError);
    await assert.rejects(hv.undefine(`${o.prefix}nosuch`), VirtNotFoundError);
    assert.equal(await hv.get(`${o.prefix}nosuch`), null);
  });
}
