/**
 * @module services/file-cache
 * Memoizes a value derived from a few files, deriving it again only when one of them
 * changed (inode, size, modification or status-change time; a missing file counts as
 * a state too). The console asks for its summary and the health document every 5 s;
 * parsing and validating the same YAML files each time was most of an idle qx-node's
 * CPU, and a `stat` costs a fraction of a read.
 *
 * File times have the kernel's coarse clock (a few ms), so a file written twice in one
 * tick with the same size could look unchanged: as git does for "racily clean" files, a
 * value is only reused when every file was last changed more than {@link RACY_MS}
 * before it was read.
 *
 * @example
 * ```ts
 * const release = new FileCache([join(root, "etc/quantix/release")], () => readShellVars(path));
 * await release.get(); // reads the file; later calls only stat it
 * ```
 */
import { promises as fs } from "node:fs";

/** A file changed less than this long before it was read is read again next time. */
export const RACY_MS = 2000;

interface FileState {
  readonly key: string;
  /** Status-change time in ms, or null when the file does not exist. */
  readonly ctimeMs: number | null;
}

async function fileState(path: string): Promise<FileState> {
  try {
    const s = await fs.stat(path, { bigint: true });
    return { key: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`, ctimeMs: Number(s.ctimeNs / 1_000_000n) };
  } catch (e) {
    return { key: `!${(e as NodeJS.ErrnoException).code ?? "error"}`, ctimeMs: null };
  }
}

export class FileCache<T> {
  #key: string | null = null;
  #value: Promise<T> | null = null;

  /**
   * @param paths the files `load` reads
   * @param load derives the value from them
   * @param now the clock (ms since the epoch)
   */
  constructor(
    private readonly paths: readonly string[],
    private readonly load: () => Promise<T>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The value, derived again when a file changed since the last time. A failed load is not kept. */
  async get(): Promise<T> {
    const states = await Promise.all(this.paths.map(fileState));
    const key = states.map((s) => s.key).join("|");
    if (this.#value && key === this.#key) return this.#value;
    const readAt = this.now();
    const settled = states.every((s) => s.ctimeMs === null || s.ctimeMs < readAt - RACY_MS);
    const p = this.load();
    this.#key = settled ? key : null;
    this.#value = settled ? p : null;
    p.catch(() => {
      if (this.#value === p) {
        this.#value = null;
        this.#key = null;
      }
    });
    return p;
  }
}

/** One {@link FileCache} per key (a filesystem root), made on first use. */
export function cachePerKey<T>(make: (key: string) => FileCache<T>): (key: string) => Promise<T> {
  const caches = new Map<string, FileCache<T>>();
  return (key) => {
    let c = caches.get(key);
    if (!c) {
      c = make(key);
      caches.set(key, c);
    }
    return c.get();
  };
}
