/**
 * @module services/network-try
 * Changing the management network in try-mode (Talos "try", TrueNAS test-and-revert):
 *
 * 1. the current `network.yaml` text is kept in `/quantix/network-try.json` (on the
 *    config partition, so a crash or a reboot during the trial still reverts);
 * 2. the new settings are written into `network.yaml` through core's store (comments
 *    and key order survive) and applied by qx-netconf's library, a moment after the
 *    API has answered (the answer may not make it through the change otherwise);
 * 3. unless `confirm` arrives **over the new address** within the deadline (120 s),
 *    the old text is written back and applied again.
 *
 * @example
 * ```ts
 * const t = new NetworkTrial({ root: "/", applier: qxNetconf("/"), log });
 * await t.resume();                      // at start: finish a trial a restart interrupted
 * await t.start({ interface: "eth0", mode: "static", address: "10.0.0.5/24" });
 * await t.confirm("10.0.0.5");           // from a request that arrived on 10.0.0.5
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { configPaths, type ManagementNetwork, Mutex, networkConfigFile, writeFileAtomic } from "@quantix/core";
import { z } from "zod";
import { ConflictError } from "../api/http-errors.ts";
import { applyNetwork, defaultNetworkEnv, type ShownNetwork, showNetwork } from "./network-apply.ts";

export const TRY_TIMEOUT_MS = 120_000;
export const TRY_FILE = "network-try.json";

/** What applies network.yaml and reads the result back (qx-netconf's library on a node). */
export interface NetworkApplier {
  apply(): Promise<ShownNetwork>;
  show(): Promise<ShownNetwork>;
}

/** The real thing: `qx-netconf apply` / `show` as a library. */
export function qxNetconf(root: string): NetworkApplier {
  const env = defaultNetworkEnv({ root });
  return { apply: () => applyNetwork(env), show: () => showNetwork(env) };
}

export const TrialState = z.object({
  state: z.enum(["none", "applying", "pending", "confirmed", "reverted", "failed"]),
  /** The settings on trial. */
  requested: z.record(z.string(), z.unknown()).nullable(),
  /** Where the node answers after the change (CIDR), when known. */
  address: z.string().nullable(),
  /** When it reverts by itself (ISO 8601), while pending. */
  deadline: z.string().nullable(),
  message: z.string().nullable(),
});
export type TrialState = z.infer<typeof TrialState>;

const Saved = z.object({ previous: z.string().nullable(), requested: z.record(z.string(), z.unknown()), deadline: z.number() });

export interface NetworkTrialOptions {
  readonly root: string;
  readonly applier: NetworkApplier;
  readonly log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Called with each new state of a trial (applying, pending, confirmed, reverted, failed). */
  readonly onChange?: (s: TrialState) => void;
  readonly timeoutMs?: number;
  /** Pause between answering the request and applying (default 500 ms). */
  readonly applyDelayMs?: number;
  readonly now?: () => number;
}

/** The keys of the management section, in schema order (a PUT replaces all of them). */
const KEYS = ["interface", "mode", "address", "gateway", "dns", "vlan"] as const;

export class NetworkTrial {
  #state: TrialState = { state: "none", requested: null, address: null, deadline: null, message: null };

  #set(s: TrialState): void {
    this.#state = s;
    try {
      this.o.onChange?.(s);
    } catch {
      // the listener's failure is its own
    }
  }
  readonly #starts = new Mutex();
  #timer: NodeJS.Timeout | undefined;
  #busy: Promise<unknown> = Promise.resolve();
  readonly #file: string;
  readonly #now: () => number;

  constructor(private readonly o: NetworkTrialOptions) {
    this.#file = join(configPaths(o.root).dir, TRY_FILE);
    this.#now = o.now ?? Date.now;
  }

  status(): TrialState {
    return this.#state;
  }

  /** Writes `next` into network.yaml and applies it on trial (see the module comment); one start at a time, a second is 409. */
  start(next: ManagementNetwork): Promise<TrialState> {
    return this.#starts.run(() => this.#start(next));
  }

  async #start(next: ManagementNetwork): Promise<TrialState> {
    if (this.#state.state === "pending" || this.#state.state === "applying") {
      throw new ConflictError("a network change is already on trial; confirm it or wait for it to revert");
    }
    const file = networkConfigFile(this.o.root);
    const previous = await fs.readFile(file.path, "utf8").catch(() => null);
    const deadline = this.#now() + (this.o.timeoutMs ?? TRY_TIMEOUT_MS);
    const requested = { ...next } as Record<string, unknown>;
    await fs.mkdir(configPaths(this.o.root).dir, { recursive: true });
    await writeFileAtomic(this.#file, `${JSON.stringify({ previous, requested, deadline })}\n`, { mode: 0o600 });
    await file.update((doc) => {
      for (const k of KEYS) {
        const v = next[k];
        if (v === undefined) doc.delete(["management", k]);
        else doc.set(["management", k], v);
      }
      // The bridge is kept unless the request names one (the DCUI's form has no bridge field).
      if (next.bridge !== undefined) doc.set(["management", "bridge"], next.bridge);
    });
    const planned = next.mode === "static" ? (next.address ?? null) : null;
    this.#set({ state: "applying", requested, address: planned, deadline: new Date(deadline).toISOString(), message: null });
    this.o.log("network change on trial", { requested, deadline: this.#state.deadline });
    const delay = setTimeout(() => {
      this.#busy = this.#apply(previous, deadline);
    }, this.o.applyDelayMs ?? 500);
    delay.unref();
    return this.#state;
  }

  async #apply(previous: string | null, deadline: number): Promise<void> {
    try {
      const shown = await this.o.applier.apply();
      this.#set({ ...this.#state, state: "pending", address: shown.address ?? this.#state.address });
      this.#arm(previous, deadline);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      this.o.log("network change failed; reverting", { error: why });
      await this.#revert(previous, `the new settings failed to apply: ${why}`, "failed");
    }
  }

  #arm(previous: string | null, deadline: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#busy = this.#revert(previous, "not confirmed in time", "reverted");
    }, Math.max(0, deadline - this.#now()));
  }

  async #revert(previous: string | null, why: string, state: "reverted" | "failed"): Promise<void> {
    clearTimeout(this.#timer);
    const path = networkConfigFile(this.o.root).path;
    if (previous === null) await fs.rm(path, { force: true });
    else await writeFileAtomic(path, previous, { mode: 0o600 });
    let message = `${why}; the previous settings are back`;
    try {
      await this.o.applier.apply();
    } catch (e) {
      message += ` (re-applying them failed too: ${e instanceof Error ? e.message : String(e)})`;
    }
    await fs.rm(this.#file, { force: true });
    this.#set({ ...this.#state, state, deadline: null, message });
    this.o.log(`network change ${state}`, { message });
  }

  /**
   * Keeps the change. `localAddress` is the address the confirming request arrived
   * on (null for the root-only unix socket, i.e. someone at the console).
   */
  async confirm(localAddress: string | null): Promise<TrialState> {
    await this.#busy;
    if (this.#state.state !== "pending") throw new ConflictError(`no network change is waiting for confirmation (state: ${this.#state.state})`);
    if (this.#state.address === null) {
      // DHCP: the lease may have come after apply() returned.
      const shown = await this.o.applier.show().catch(() => null);
      this.#set({ ...this.#state, address: shown?.address ?? null });
    }
    const expected = this.#state.address?.split("/")[0] ?? null;
    const got = localAddress?.replace(/^::ffff:/, "") ?? null;
    if (got !== null && expected !== got) {
      throw new ConflictError(
        expected
          ? `confirm from the new address: reconnect to https://${expected} and confirm there (this request came in on ${got})`
          : "the new settings have no address yet (waiting for DHCP); confirm once the node answers on its new address",
      );
    }
    clearTimeout(this.#timer);
    await fs.rm(this.#file, { force: true });
    this.#set({ ...this.#state, state: "confirmed", deadline: null, message: "confirmed; the new settings stay" });
    this.o.log("network change confirmed", { address: this.#state.address });
    return this.#state;
  }

  /** At start: a trial a restart interrupted goes on until its deadline, then reverts. */
  async resume(): Promise<void> {
    const text = await fs.readFile(this.#file, "utf8").catch(() => null);
    if (text === null) return;
    const r = Saved.safeParse((() => {
      try {
        return JSON.parse(text);
      } catch {
        return null;
      }
    })());
    if (!r.success) {
      this.o.log(`${this.#file} is unreadable; leaving network.yaml as it is`);
      await fs.rm(this.#file, { force: true });
      return;
    }
    const { previous, requested, deadline } = r.data;
    this.#set({ state: "pending", requested, address: null, deadline: new Date(deadline).toISOString(), message: "resumed after a restart" });
    const shown = await this.o.applier.show().catch(() => null);
    this.#set({ ...this.#state, address: shown?.address ?? null });
    if (deadline <= this.#now()) await this.#revert(previous, "not confirmed before qx-node restarted", "reverted");
    else this.#arm(previous, deadline);
  }

  /** Stops the timer (server shutdown); the saved trial resumes at the next start. */
  close(): void {
    clearTimeout(this.#timer);
  }
}
