import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NetworkConfig } from "@quantix/core";
import { withDefaultBridge } from "./seed.ts";

const DEFAULTS: NetworkConfig = {
  management: { interface: "auto", mode: "dhcp", bridge: "vmbr0" },
  bridges: [{ name: "vmbr0", uplinks: [], datapath: "system" }],
  networks: [{ name: "vm-network", bridge: "vmbr0" }],
};

describe("first boot's network.yaml from the installer's answers", () => {
  it("a static address from the installer gets the image's VM bridge and network", () => {
    const answer: NetworkConfig = { management: { interface: "eth1", mode: "static", address: "10.0.0.9/24", gateway: "10.0.0.1" } };
    assert.deepEqual(withDefaultBridge(answer, DEFAULTS), {
      management: { interface: "eth1", mode: "static", address: "10.0.0.9/24", gateway: "10.0.0.1", bridge: "vmbr0" },
      bridges: DEFAULTS.bridges,
      networks: DEFAULTS.networks,
    });
  });

  it("an answer that declares its own bridges is taken as it is", () => {
    const answer: NetworkConfig = { management: { interface: "eth0", mode: "dhcp" }, bridges: [] };
    assert.equal(withDefaultBridge(answer, DEFAULTS), answer);
  });

  it("image defaults without a management bridge add nothing", () => {
    const answer: NetworkConfig = { management: { interface: "eth0", mode: "dhcp" } };
    assert.equal(withDefaultBridge(answer, { management: { interface: "auto", mode: "dhcp" } }), answer);
  });
});
