/**
 * @module slot-targets
 * Where each system slot's bytes live: the partition named by the layout on a node,
 * or a range of a disk image file (tests, benchmarks). Sizes come from the layout.
 *
 * @example
 * ```ts
 * const slots = imageFileSlots("disk.img", planDisk(size));
 * await slots.region("B"); // { path: "disk.img", offset: 315621376, size: 314572800 }
 * ```
 */
import { type BlockRegion, type DiskPlan, partition, type PartitionRole, type SlotName } from "@quantix/core";
import { findPartitionByName } from "./devices.ts";

export interface SlotTargets {
  region(slot: SlotName): Promise<BlockRegion>;
}

export const slotRole = (s: SlotName): PartitionRole => (s === "A" ? "system-a" : "system-b");

/** The node's slot partitions, found by GPT name. */
export function partitionSlots(sysfs = "/sys/class/block"): SlotTargets {
  return {
    async region(slot) {
      const spec = partition(slotRole(slot));
      return { path: await findPartitionByName(spec.gptName, sysfs), offset: 0, size: spec.sizeBytes ?? 0 };
    },
  };
}

/** The slots of a disk image file laid out by `plan`. */
export function imageFileSlots(path: string, plan: DiskPlan): SlotTargets {
  return {
    async region(slot) {
      const p = plan.partitions.find((x) => x.role === slotRole(slot));
      if (!p) throw new Error(`layout has no ${slotRole(slot)}`);
      return { path, offset: p.offsetBytes, size: p.sizeBytes };
    },
  };
}
