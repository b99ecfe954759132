/**
 * @module context
 * What every qx-node service needs from the outside world, gathered in one object so
 * tests can replace it: the filesystem root (`/` on a node, a temporary directory in
 * tests), the command runner, the clock, the network interfaces and the logger.
 *
 * @example
 * ```ts
 * const ctx = nodeContext({ root: tmp, runner: fakeRunner });
 * ```
 */
import { hostname as osHostname, networkInterfaces as osNetworkInterfaces } from "node:os";
import { run } from "@quantix/core";

/** The signature of core's `run`; tests pass a fake with the same shape. */
export type Runner = typeof run;

export interface NodeContext {
  /** Filesystem root every path is resolved under. */
  readonly root: string;
  /** Runs a subprocess (core's `run` unless a test replaces it). */
  readonly runner: Runner;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  /** The host's network interfaces, as `os.networkInterfaces()` returns them. */
  readonly networkInterfaces: typeof osNetworkInterfaces;
  /** The kernel's host name (used when node.yaml has none). */
  readonly hostname: () => string;
}

/** A context with the real implementations, overridden by `parts`. */
export function nodeContext(parts: Partial<NodeContext> = {}): NodeContext {
  return {
    root: "/",
    runner: run,
    now: Date.now,
    networkInterfaces: osNetworkInterfaces,
    hostname: osHostname,
    ...parts,
  };
}
