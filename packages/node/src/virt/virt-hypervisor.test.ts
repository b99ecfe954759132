import { describe } from "node:test";
import { hypervisorContract } from "./hypervisor-contract.ts";
import { memoryHypervisor } from "./memory-hypervisor.ts";

describe("memory hypervisor: the hypervisor contract", () => {
  hypervisorContract(() => memoryHypervisor(), { prefix: "m-" });
});
