import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NetworkConfig } from "./schema.ts";

const problems = (v: unknown) => {
  const r = NetworkConfig.safeParse(v);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
};

describe("network.yaml's cross-checks", () => {
  it("accepts the image default: management on vmbr0, vm-network on it", () => {
    assert.deepEqual(problems({ management: { interface: "auto", mode: "dhcp", bridge: "vmbr0" }, bridges: [{ name: "vmbr0" }], networks: [{ name: "vm-network", bridge: "vmbr0" }] }), []);
  });

  it("management.bridge must be declared under bridges:", () => {
    assert.deepEqual(problems({ management: { interface: "auto", mode: "dhcp", bridge: "vmbr9" }, bridges: [{ name: "vmbr0" }] }), [
      "management.bridge: no bridge named vmbr9 under bridges: declare it there, or remove management.bridge",
    ]);
  });

  it("the management port cannot join its bridge while it is another bridge's uplink", () => {
    assert.deepEqual(problems({ management: { interface: "eth0", mode: "dhcp", bridge: "vmbr0" }, bridges: [{ name: "vmbr0" }, { name: "san", uplinks: ["eth0"] }] }), [
      "management.interface: eth0 is an uplink of bridge san; it cannot also join vmbr0",
    ]);
  });

  it("bridge + vlan must fit a kernel interface name", () => {
    assert.deepEqual(problems({ management: { interface: "auto", mode: "dhcp", bridge: "verylongbridge0", vlan: 4000 }, bridges: [{ name: "verylongbridge0" }] }), [
      "management.bridge: verylongbridge0.4000 (the management port on the bridge) is longer than 15 characters: use a shorter bridge name",
    ]);
  });

  it("names each bridge or network declared twice and each network on an undeclared bridge", () => {
    assert.deepEqual(
      problems({ management: { interface: "auto", mode: "dhcp" }, bridges: [{ name: "a" }, { name: "a" }], networks: [{ name: "n", bridge: "b" }] }),
      ["bridges.1.name: bridge a is declared twice", "networks.0.bridge: no bridge named b under bridges:"],
    );
  });
});
