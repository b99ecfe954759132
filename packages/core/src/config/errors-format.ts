/**
 * @module config/errors-format
 * Turns zod issues and YAML parse errors into one-line {@link ConfigError}s that name
 * the file, the field path and what was expected.
 */
import type { z } from "zod";
import { ConfigError } from "../errors.ts";

/** Dotted path with array indices: `management.dns[1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  const s = JSON.stringify(v);
  return s && s.length > 60 ? `${s.slice(0, 57)}...` : (s ?? String(v));
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** The first issue of a zod error as a ConfigError (others are attached as `cause`). */
export function configErrorFromZod(file: string, error: z.ZodError, data: unknown): ConfigError {
  const issue = error.issues[0];
  if (!issue) return new ConfigError(file, null, "invalid", { cause: error });
  let detail = issue.message;
  if (issue.code === "unrecognized_keys") {
    detail = `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
  } else if (issue.code === "invalid_type") {
    detail = `${issue.message.replace(/^Invalid input: /, "")}, got ${describeValue(valueAt(data, issue.path))}`;
  } else if (valueAt(data, issue.path) !== undefined && issue.code !== "custom") {
    detail = `${issue.message}, got ${describeValue(valueAt(data, issue.path))}`;
  }
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : "";
  return new ConfigError(file, formatPath(issue.path) || null, detail + more, { cause: error });
}
