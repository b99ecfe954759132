/**
 * @module mutex
 * In-process mutual exclusion for async work: a {@link Mutex} runs one function at a
 * time, in call order; a {@link KeyedMutex} does that per key (a file path, a token
 * id). Every read-modify-write of a file or of a store goes through one, so two
 * requests can never both read version N and each write their own N+1.
 *
 * @example
 * ```ts
 * const lock = new KeyedMutex();
 * await lock.run("/quantix/node.yaml", async () => { const doc = await read(); await write(edit(doc)); });
 * ```
 */

/** One async function at a time, first come first served. */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #held = 0;

  /** Runs `f` once every earlier `run` has settled; its result (or error) is the caller's. */
  async run<T>(f: () => Promise<T> | T): Promise<T> {
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => {
      release = r;
    });
    this.#held++;
    await prev;
    try {
      return await f();
    } finally {
      this.#held--;
      release();
    }
  }

  /** True while a function runs or waits. */
  get busy(): boolean {
    return this.#held > 0;
  }
}

/** A {@link Mutex} per key; idle keys are forgotten, so the table stays as small as the work in flight. */
export class KeyedMutex {
  readonly #locks = new Map<string, Mutex>();

  async run<T>(key: string, f: () => Promise<T> | T): Promise<T> {
    let m = this.#locks.get(key);
    if (!m) {
      m = new Mutex();
      this.#locks.set(key, m);
    }
    try {
      return await m.run(f);
    } finally {
      if (!m.busy && this.#locks.get(key) === m) this.#locks.delete(key);
    }
  }

  /** Keys with work running or waiting (tests). */
  get size(): number {
    return this.#locks.size;
  }
}
