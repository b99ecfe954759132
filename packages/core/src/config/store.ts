/**
 * @module config/store
 * Loads and edits the YAML configuration files. Edits go through the `yaml`
 * library's Document API, so comments and key order survive; every write is
 * validated first and then made atomically. A copy of the last file that loaded
 * cleanly is kept so a daemon can fall back to it when someone breaks the file.
 *
 * @example
 * ```ts
 * const net = configFile("/quantix/network.yaml", NetworkConfig);
 * await net.update((doc) => doc.set(["management", "mode"], "dhcp"));
 * const { value, error } = await net.loadWithFallback();
 * ```
 */
import { promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Document, isMap, parseDocument } from "yaml";
import type { z } from "zod";
import { withFileLock, writeFileAtomic } from "../atomic-write.ts";
import { ConfigError } from "../errors.ts";
import { configErrorFromZod } from "./errors-format.ts";

export type ConfigPath = readonly (string | number)[];

/** A YAML document being edited; comments and formatting are kept. */
export class ConfigDocument {
  constructor(readonly doc: Document) {}
  get(path: ConfigPath): unknown {
    return this.doc.getIn(path);
  }
  set(path: ConfigPath, value: unknown): void {
    this.doc.setIn(path, value);
  }
  delete(path: ConfigPath): void {
    this.doc.deleteIn(path);
  }
  /** Sets every leaf of `patch` (nested objects are merged; arrays replace). */
  merge(patch: Record<string, unknown>, base: ConfigPath = []): void {
    for (const [k, v] of Object.entries(patch)) {
      const p = [...base, k];
      if (v === undefined || v === null) this.delete(p);
      else if (typeof v === "object" && !Array.isArray(v) && isMap(this.doc.getIn(p, true))) {
        this.merge(v as Record<string, unknown>, p);
      } else this.set(p, v);
    }
  }
  toJS(): unknown {
    return this.doc.toJS();
  }
  toString(): string {
    return this.doc.toString();
  }
}

/** Parses YAML text; throws a one-line ConfigError naming line and column on a syntax error. */
export function parseYaml(file: string, text: string): ConfigDocument {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const err = doc.errors[0];
  if (err) {
    const pos = err.linePos?.[0];
    const where = pos ? `line ${pos.line}, column ${pos.col}` : null;
    const msg = err.message.split("\n")[0] ?? "syntax error";
    throw new ConfigError(file, where, `YAML syntax error: ${msg.replace(/ at line \d+, column \d+.*$/, "")}`, {
      cause: err,
      hint: "fix the file or restore it from the last good copy",
    });
  }
  return new ConfigDocument(doc);
}

export interface LoadResult<T> {
  /** The configuration in force: the file's, or the last good copy's, or null. */
  readonly value: T | null;
  /** Why the file itself could not be used, if it could not. */
  readonly error: ConfigError | null;
  readonly source: "file" | "last-good" | "none";
}

export interface ConfigFile<T> {
  readonly path: string;
  readonly lastGoodPath: string;
  exists(): Promise<boolean>;
  /** Loads and validates the file; throws ConfigError. */
  load(): Promise<T>;
  /** Loads the file, or the last good copy when the file is broken or missing. */
  loadWithFallback(): Promise<LoadResult<T>>;
  /** Applies `edit` to the document (or a new one), validates, and writes atomically. */
  update(edit: (doc: ConfigDocument) => void, options?: { header?: string }): Promise<T>;
  /** Validates `value` and writes it as a new file (comments of an existing file are kept where keys remain). */
  write(value: T, options?: { header?: string }): Promise<T>;
}

/** The last-good copy lives beside the file: `/quantix/.last-good/node.yaml`. */
export function lastGoodPathFor(path: string): string {
  return join(dirname(path), ".last-good", basename(path));
}

/** Binds a file path to its schema. */
export function configFile<S extends z.ZodType>(path: string, schema: S): ConfigFile<z.infer<S>> {
  type T = z.infer<S>;
  const lastGoodPath = lastGoodPathFor(path);

  function validate(file: string, data: unknown): T {
    const r = schema.safeParse(data);
    if (!r.success) throw configErrorFromZod(file, r.error, data);
    return r.data as T;
  }

  async function readText(p: string): Promise<string> {
    try {
      return await fs.readFile(p, "utf8");
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new ConfigError(p, null, code === "ENOENT" ? "file not found" : `cannot read (${code})`, { cause: e });
    }
  }

  async function loadFrom(p: string): Promise<{ doc: ConfigDocument; value: T; text: string }> {
    const text = await readText(p);
    const doc = parseYaml(p, text);
    const value = validate(p, doc.toJS() ?? {});
    return { doc, value, text };
  }

  async function saveLastGood(text: string): Promise<void> {
    try {
      await fs.mkdir(dirname(lastGoodPath), { recursive: true, mode: 0o700 });
      const current = await fs.readFile(lastGoodPath, "utf8").catch(() => null);
      if (current !== text) await writeFileAtomic(lastGoodPath, text, { mode: 0o600 });
    } catch {
      // The last-good copy is a convenience; a read-only /quantix must not fail a load.
    }
  }

  async function commit(doc: ConfigDocument): Promise<T> {
    const value = validate(path, doc.toJS() ?? {});
    const text = doc.toString();
    await fs.mkdir(dirname(path), { recursive: true });
    await writeFileAtomic(path, text, { mode: 0o600 });
    await saveLastGood(text);
    return value;
  }

  return {
    path,
    lastGoodPath,
    async exists() {
      return fs.access(path).then(
        () => true,
        () => false,
      );
    },
    async load() {
      const { value, text } = await loadFrom(path);
      await saveLastGood(text);
      return value;
    },
    async loadWithFallback() {
      try {
        const { value, text } = await loadFrom(path);
        await saveLastGood(text);
        return { value, error: null, source: "file" as const };
      } catch (e) {
        if (!(e instanceof ConfigError)) throw e;
        try {
          const { value } = await loadFrom(lastGoodPath);
          return { value, error: e, source: "last-good" as const };
        } catch {
          return { value: null, error: e, source: "none" as const };
        }
      }
    },
    update(edit, options) {
      // Read, edit and write under the file's lock: parallel edits each see the one before.
      return withFileLock(path, () => updateNow(edit, options));
    },
    async write(value, options) {
      return this.update((doc) => {
        const current = (doc.toJS() ?? {}) as Record<string, unknown>;
        for (const k of Object.keys(current)) if (!(k in (value as object))) doc.delete([k]);
        doc.merge(value as Record<string, unknown>);
      }, options);
    },
  };

  async function updateNow(edit: (doc: ConfigDocument) => void, options?: { header?: string }): Promise<T> {
    let doc: ConfigDocument | null = null;
    try {
      doc = parseYaml(path, await fs.readFile(path, "utf8"));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    }
    if (!doc || !isMap(doc.doc.contents)) {
      const fresh = new Document({});
      if (options?.header) fresh.commentBefore = options.header;
      doc = new ConfigDocument(fresh);
    }
    edit(doc);
    return commit(doc);
  }
}
