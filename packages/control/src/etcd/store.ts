/**
 * @module etcd/store
 * The one module that talks to etcd (through the `etcd3` package). Everything else in the
 * control plane sees JSON values under a key prefix, transactions that compare revisions,
 * a lease that is granted again after it is lost, and a leader election that campaigns
 * again after it is lost. gRPC failures become {@link UnavailableError} (HTTP 503).
 *
 * @example
 * ```ts
 * const store = Store.connect({ endpoints: ["https://10.0.0.1:2379"], tls });
 * await store.put("nodes/abc", { hostname: "quantix-01" });
 * const ok = await store.txn().ifMissing("names/quantix-01").put("names/quantix-01", "abc").commit();
 * ```
 */
import { EventEmitter } from "node:events";
import { ClientClosedError, ClientRuntimeError, Etcd3, GRPCGenericError, type IOptions, type Lease, type Namespace } from "etcd3";
import { UnavailableError } from "../errors.ts";

export interface StoreTls {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface StoreOptions {
  /** Client URLs of the etcd members (https:// with tls, http:// without). */
  readonly endpoints: readonly string[];
  readonly tls?: StoreTls;
  /** Key prefix of everything Quantix stores (default `/quantix/`). */
  readonly prefix?: string;
  /** Per-call deadline in ms (default 5000): a call never hangs on a lost quorum. */
  readonly callTimeoutMs?: number;
}

export interface Entry<T> {
  readonly key: string;
  readonly value: T;
  readonly modRevision: string;
  readonly createRevision: string;
}

/** etcd3's own error classes: every failure of a call to etcd is one of them. */
function isGrpcFailure(e: unknown): boolean {
  return e instanceof GRPCGenericError || e instanceof ClientRuntimeError || e instanceof ClientClosedError;
}

/** Runs a store call, turning gRPC and etcd failures into UnavailableError. */
async function guard<T>(what: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof UnavailableError) throw e;
    if (isGrpcFailure(e)) throw new UnavailableError(`etcd ${what} failed: ${(e as Error).message}`, e);
    throw e;
  }
}

function parse<T>(key: string, raw: string): T {
  try {
    return JSON.parse(raw) as T;
  } catch (e) {
    throw new Error(`etcd key ${key} holds a value that is not JSON`, { cause: e });
  }
}

type Op = { kind: "put"; key: string; value: unknown; lease?: KeptLease } | { kind: "delete"; key: string };
type Cmp = { key: string; target: "Mod" | "Create"; value: string | number };

/** A compare-and-swap transaction: all comparisons hold, then every operation applies. */
export class Txn {
  readonly #cmps: Cmp[] = [];
  readonly #ops: Op[] = [];
  constructor(readonly store: Store) {}
  /** The key does not exist. */
  ifMissing(key: string): this {
    this.#cmps.push({ key, target: "Create", value: 0 });
    return this;
  }
  /** The key is unchanged since this revision ("0": it does not exist). */
  ifUnchanged(key: string, modRevision: string): this {
    this.#cmps.push({ key, target: "Mod", value: modRevision });
    return this;
  }
  put(key: string, value: unknown, lease?: KeptLease): this {
    this.#ops.push({ kind: "put", key, value, lease });
    return this;
  }
  delete(key: string): this {
    this.#ops.push({ kind: "delete", key });
    return this;
  }
  /** True when the comparisons held and the operations were applied. */
  commit(): Promise<boolean> {
    return this.store.commit(this.#cmps, this.#ops);
  }
}

/**
 * A lease kept alive by etcd3; when it is lost (etcd unreachable past its TTL) a new one
 * is granted and `regranted` is emitted so owners can write their keys again.
 */
export class KeptLease extends EventEmitter {
  #lease: Lease;
  #closed = false;
  constructor(
    readonly ns: Namespace,
    readonly ttlSeconds: number,
  ) {
    super();
    this.#lease = this.#grant();
  }
  #grant(): Lease {
    const lease = this.ns.lease(this.ttlSeconds, { autoKeepAlive: true });
    lease.on("lost", () => {
      if (this.#closed) return;
      this.emit("lost");
      setTimeout(() => {
        if (this.#closed) return;
        this.#lease = this.#grant();
        this.#lease
          .grant()
          .then(() => this.emit("regranted"))
          .catch(() => undefined);
      }, 1000).unref();
    });
    lease.grant().catch(() => undefined);
    return lease;
  }
  get lease(): Lease {
    return this.#lease;
  }
  id(): Promise<string> {
    return this.#lease.grant();
  }
  async close(): Promise<void> {
    this.#closed = true;
    await this.#lease.revoke().catch(() => undefined);
  }
}

/** Leadership of one election name; campaigns again whenever it is lost. */
export class Leadership extends EventEmitter {
  #leader = false;
  #closed = false;
  #campaign: ReturnType<ReturnType<Namespace["election"]>["campaign"]> | undefined;
  constructor(
    readonly ns: Namespace,
    readonly name: string,
    readonly value: string,
    readonly ttlSeconds: number,
  ) {
    super();
    this.#start();
  }
  get isLeader(): boolean {
    return this.#leader;
  }
  #start(): void {
    if (this.#closed) return;
    const campaign = this.ns.election(this.name, this.ttlSeconds).campaign(this.value);
    this.#campaign = campaign;
    campaign.on("elected", () => {
      this.#leader = true;
      this.emit("elected");
    });
    campaign.on("error", (e: Error) => {
      const was = this.#leader;
      this.#leader = false;
      if (was) this.emit("lost", e);
      campaign.resign().catch(() => undefined);
      setTimeout(() => this.#start(), 1000).unref();
    });
  }
  async close(): Promise<void> {
    this.#closed = true;
    this.#leader = false;
    await this.#campaign?.resign().catch(() => undefined);
  }
}

export class Store {
  readonly client: Etcd3;
  readonly ns: Namespace;
  readonly prefix: string;
  readonly callTimeoutMs: number;

  private constructor(client: Etcd3, prefix: string, callTimeoutMs: number) {
    this.client = client;
    this.prefix = prefix;
    this.ns = client.namespace(prefix);
    this.callTimeoutMs = callTimeoutMs;
  }

  static connect(o: StoreOptions): Store {
    const callTimeoutMs = o.callTimeoutMs ?? 5000;
    const options: IOptions = {
      hosts: [...o.endpoints],
      dialTimeout: 3000,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + callTimeoutMs }),
      ...(o.tls
        ? {
            credentials: {
              rootCertificate: Buffer.from(o.tls.caPem),
              certChain: Buffer.from(o.tls.certPem),
              privateKey: Buffer.from(o.tls.keyPem),
            },
          }
        : {}),
    };
    return new Store(new Etcd3(options), o.prefix ?? "/quantix/", callTimeoutMs);
  }

  async get<T>(key: string): Promise<Entry<T> | null> {
    const res = await guard("get", () => this.ns.get(key).exec());
    const kv = res.kvs[0];
    if (!kv) return null;
    return { key, value: parse<T>(key, kv.value.toString()), modRevision: String(kv.mod_revision), createRevision: String(kv.create_revision) };
  }

  /** Every entry under a prefix, in key order. */
  async list<T>(prefix: string): Promise<Entry<T>[]> {
    const res = await guard("range", () => this.ns.getAll().prefix(prefix).exec());
    return res.kvs.map((kv) => {
      const key = kv.key.toString().slice(this.prefix.length);
      return { key, value: parse<T>(key, kv.value.toString()), modRevision: String(kv.mod_revision), createRevision: String(kv.create_revision) };
    });
  }

  async count(prefix: string): Promise<number> {
    return guard("count", () => this.ns.getAll().prefix(prefix).count());
  }

  async put(key: string, value: unknown, lease?: KeptLease): Promise<void> {
    await guard("put", async () => {
      const v = JSON.stringify(value);
      if (lease) await lease.lease.put(key).value(v).exec();
      else await this.ns.put(key).value(v).exec();
    });
  }

  async delete(key: string): Promise<void> {
    await guard("delete", () => this.ns.delete().key(key).exec());
  }

  async deletePrefix(prefix: string): Promise<void> {
    await guard("delete", () => this.ns.delete().prefix(prefix).exec());
  }

  txn(): Txn {
    return new Txn(this);
  }

  /** @internal Txn.commit */
  async commit(cmps: readonly Cmp[], ops: readonly Op[]): Promise<boolean> {
    return guard("transaction", async () => {
      const leaseIds = await Promise.all(ops.map((op) => (op.kind === "put" && op.lease ? op.lease.id() : Promise.resolve(undefined))));
      const first = cmps[0];
      let b = first ? this.ns.if(first.key, first.target, "==", first.value) : this.ns.if("\u0000never", "Create", "==", 0);
      for (const c of cmps.slice(1)) b = b.and(c.key, c.target, "==", c.value);
      const clauses = ops.map((op, i) => {
        if (op.kind === "delete") return this.ns.delete().key(op.key);
        const put = this.ns.put(op.key).value(JSON.stringify(op.value));
        const id = leaseIds[i];
        return id ? put.lease(id) : put;
      });
      const res = await b.then(...clauses).commit();
      return Boolean(res.succeeded);
    });
  }

  /** A lease that outlives etcd outages by being granted again. */
  lease(ttlSeconds: number): KeptLease {
    return new KeptLease(this.ns, ttlSeconds);
  }

  /** Campaigns for `name` with `value` (this replica's name) until closed. */
  leadership(name: string, value: string, ttlSeconds = 5): Leadership {
    return new Leadership(this.ns, `election/${name}`, value, ttlSeconds);
  }

  /** The current leader's value of an election, or undefined. */
  async leader(name: string): Promise<string | undefined> {
    return guard("leader", () => this.ns.election(`election/${name}`).leader());
  }

  /**
   * Watches a prefix; etcd3 resumes a broken watch from the last revision it saw, so no
   * change is missed across an etcd leader change. Returns a function that stops it.
   */
  async watch(prefix: string, onChange: (key: string, value: unknown | null) => void): Promise<() => Promise<void>> {
    const watcher = await guard("watch", () => this.ns.watch().prefix(prefix).create());
    watcher.on("put", (kv) => {
      const key = kv.key.toString().slice(this.prefix.length);
      try {
        onChange(key, JSON.parse(kv.value.toString()));
      } catch {
        /* not JSON: ignored */
      }
    });
    watcher.on("delete", (kv) => onChange(kv.key.toString().slice(this.prefix.length), null));
    watcher.on("error", () => undefined);
    return () => watcher.cancel();
  }

  /** Members of the etcd cluster, with learners marked. */
  async members(): Promise<{ id: string; name: string; peerUrls: string[]; clientUrls: string[]; learner: boolean }[]> {
    const res = await guard("member list", () => this.client.cluster.memberList({ linearizable: true }));
    return res.members.map((m) => ({
      id: String(m.ID),
      name: m.name,
      peerUrls: m.peerURLs,
      clientUrls: m.clientURLs,
      learner: Boolean(m.isLearner),
    }));
  }

  /** The etcd member status of the endpoint the client is on (leader, DB size, revision). */
  async status(): Promise<{ leader: string; dbSize: number; revision: string; version: string; raftTerm: string }> {
    const s = await guard("status", () => this.client.maintenance.status());
    return { leader: String(s.leader), dbSize: Number(s.dbSize), revision: String(s.header.revision), version: s.version, raftTerm: String(s.raftTerm) };
  }

  /** A consistent snapshot of the whole etcd backend (an etcd `.db` file). */
  async snapshot(): Promise<Buffer> {
    return guard("snapshot", async () => {
      const stream = await this.client.maintenance.snapshot();
      const chunks: Buffer[] = [];
      await new Promise<void>((resolve, reject) => {
        stream.on("data", (r: { blob: Buffer }) => chunks.push(Buffer.from(r.blob)));
        stream.on("end", () => resolve());
        stream.on("error", reject);
      });
      return Buffer.concat(chunks);
    });
  }

  close(): void {
    this.client.close();
  }
}
