import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { domainXml, parseDomain } from "./domain-xml.ts";
import { planBridges } from "./ovs-bridges.ts";
import { VmSpec } from "./spec.ts";
import { escapeXml, parseXml, XmlParseError } from "./xml.ts";

const resolved = (spec: VmSpec) => ({
  spec,
  uuid: "6f1c2a8e-1111-4222-8333-944455556666",
  type: "kvm" as const,
  disks: spec.disks.map((d) => ({ path: `/data/volumes/${d.volume}`, bus: d.bus })),
  cdromPath: spec.cdrom ? `/data/volumes/${spec.cdrom}` : undefined,
  nics: spec.nics.map((n) => ({ network: n.network, bridge: "qxbr0", vlan: n.vlan ?? 100, model: n.model, mac: n.mac })),
  serialSocket: "/run/quantix/vms/web-1.serial",
  vncSocket: "/run/quantix/vms/web-1.vnc",
});

describe("domain XML", () => {
  it("generates and parses back the spec (disks, ISO, NICs with VLAN, boot order, UEFI)", () => {
    const spec = VmSpec.parse({
      name: "web-1",
      vcpus: 4,
      memory_mib: 4096,
      firmware: "uefi",
      disks: [{ volume: "web-1-root", size_mib: 10240 }, { volume: "web-1-data", bus: "sata" }],
      cdrom: "debian.iso",
      nics: [{ network: "lan", mac: "52:54:00:aa:bb:cc" }],
      boot: ["cdrom", "disk"],
    });
    const info = parseDomain(domainXml(resolved(spec)), { state: "shutoff", autostart: true, poolDir: "/data/volumes" });
    assert.equal(info.name, "web-1");
    assert.equal(info.vcpus, 4);
    assert.equal(info.memory_mib, 4096);
    assert.equal(info.firmware, "uefi");
    assert.deepEqual(info.disks.map((d) => [d.volume, d.bus, d.target]), [["web-1-root", "virtio", "vda"], ["web-1-data", "sata", "sda"]]);
    assert.deepEqual(info.cdrom, { volume: "debian.iso", path: "/data/volumes/debian.iso" });
    assert.deepEqual(info.nics.map((n) => [n.network, n.bridge, n.vlan, n.mac]), [["lan", "qxbr0", 100, "52:54:00:aa:bb:cc"]]);
    assert.deepEqual(info.boot, ["cdrom", "disk"]);
    assert.equal(info.autostart, true);
  });

  it("escapes text so that a description cannot inject elements", () => {
    const evil = "</description><devices><disk type='block'><source dev='/dev/sda'/></disk></devices><description>";
    const xml = domainXml(resolved(VmSpec.parse({ name: "x", memory_mib: 64, description: evil })));
    assert.equal(parseXml(xml).children.filter((c) => c.name === "devices").length, 1);
    assert.doesNotMatch(xml, /\/dev\/sda'/);
    assert.equal(parseDomain(xml, { state: "shutoff", autostart: false, poolDir: "/data/volumes" }).description, evil);
  });

  it("the spec refuses names and volumes that could escape a path or an attribute", () => {
    for (const name of ["../x", "a/b", "x'y", "a\"b", "<x>", "", ".hidden", "a..b", "x".repeat(64)]) {
      assert.equal(VmSpec.safeParse({ name, memory_mib: 64 }).success, false, name);
    }
    for (const volume of ["../../etc/shadow", "/etc/passwd", "a/b", ".x", "x.partial"]) {
      assert.equal(VmSpec.safeParse({ name: "ok", memory_mib: 64, disks: [{ volume }] }).success, false, volume);
    }
    assert.throws(() => escapeXml("a\u0001b"), XmlParseError);
  });

  it("the parser reads what libvirt prints and refuses malformed documents", () => {
    const d = parseXml("<?xml version='1.0'?><!-- c --><domain type=\"kvm\"><name>a&amp;b</name><x a='1'/></domain>");
    assert.equal(d.children[0]?.text, "a&b");
    assert.equal(d.attrs["type"], "kvm");
    for (const bad of ["<a><b></a>", "<a>", "", "<a></a><b></b>", "<a x=1></a>"]) assert.throws(() => parseXml(bad), XmlParseError, bad);
  });
});

describe("OVS bridge plan", () => {
  const br = (name: string, uplinks: string[] = [], datapath: "system" | "netdev" = "system") => ({ name, uplinks, datapath });
  it("creates what is missing and is empty once OVS matches", () => {
    const ops = planBridges([br("qxbr0", ["eth1"], "netdev")], { bridges: [], uplinks: [] });
    assert.deepEqual(ops, [
      ["add-br", "qxbr0"],
      ["set", "Bridge", "qxbr0", "datapath_type=netdev", "external_ids:quantix=managed"],
      ["add-port", "qxbr0", "eth1"],
      ["set", "Port", "eth1", "external_ids:quantix=uplink"],
    ]);
    const now = { bridges: [{ name: "qxbr0", datapath: "netdev", managed: true, ports: ["eth1", "vnet0"] }], uplinks: [{ name: "eth1", bridge: "qxbr0" }] };
    assert.deepEqual(planBridges([br("qxbr0", ["eth1"], "netdev")], now), []);
  });
  it("removes only what qx-node made and the file no longer declares", () => {
    const now = {
      bridges: [
        { name: "old", datapath: "system", managed: true, ports: [] },
        { name: "byhand", datapath: "system", managed: false, ports: [] },
        { name: "qxbr0", datapath: "system", managed: true, ports: ["eth1", "eth2"] },
      ],
      uplinks: [{ name: "eth1", bridge: "qxbr0" }, { name: "eth2", bridge: "qxbr0" }],
    };
    assert.deepEqual(planBridges([br("qxbr0", ["eth1"])], now), [
      ["--if-exists", "del-port", "qxbr0", "eth2"],
      ["--if-exists", "del-br", "old"],
    ]);
  });
});
