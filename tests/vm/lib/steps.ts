/**
 * @module tests/vm/lib/steps
 * Scenario steps of one shared VM: `it()` that remembers whether any step failed, so
 * the suite's `after` keeps the VM's logs (and names them) only when something broke.
 *
 * @example
 * ```ts
 * const steps = trackedSteps();
 * after(() => (steps.passed ? vm.cleanup() : report(vm.serialLog)));
 * steps.step("boots", async () => { ... });
 * ```
 */
import { it } from "node:test";

export interface TrackedSteps {
  /** Declares a test step; a throw marks the suite as failed. */
  step(name: string, f: () => Promise<void>): void;
  /** True while no step has failed. */
  readonly passed: boolean;
}

export function trackedSteps(): TrackedSteps {
  let passed = true;
  return {
    step(name, f) {
      it(name, async () => {
        try {
          await f();
        } catch (e) {
          passed = false;
          throw e;
        }
      });
    },
    get passed() {
      return passed;
    },
  };
}
