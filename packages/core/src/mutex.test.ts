import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyedMutex, Mutex } from "./mutex.ts";

const tick = () => new Promise((r) => setImmediate(r));

describe("Mutex", () => {
  it("runs one function at a time, in call order, and an error releases it", async () => {
    const m = new Mutex();
    let inside = 0;
    let most = 0;
    const order: number[] = [];
    const work = Array.from({ length: 50 }, (_, i) =>
      m.run(async () => {
        inside++;
        most = Math.max(most, inside);
        await tick();
        order.push(i);
        inside--;
        if (i === 10) throw new Error("boom");
        return i;
      }),
    );
    const r = await Promise.allSettled(work);
    assert.equal(most, 1);
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i));
    assert.equal(r[10]?.status, "rejected");
    assert.equal(r.filter((x) => x.status === "fulfilled").length, 49);
    assert.equal(m.busy, false);
  });
});

describe("KeyedMutex", () => {
  it("serialises per key, runs keys side by side, forgets idle keys", async () => {
    const k = new KeyedMutex();
    const active = new Map<string, number>();
    let both = false;
    await Promise.all(
      ["a", "b"].flatMap((key) =>
        Array.from({ length: 20 }, () =>
          k.run(key, async () => {
            active.set(key, (active.get(key) ?? 0) + 1);
            assert.equal(active.get(key), 1, `one at a time on ${key}`);
            if ((active.get("a") ?? 0) > 0 && (active.get("b") ?? 0) > 0) both = true;
            await tick();
            active.set(key, (active.get(key) ?? 0) - 1);
          }),
        ),
      ),
    );
    assert.ok(both, "two keys ran side by side");
    assert.equal(k.size, 0);
  });
});
