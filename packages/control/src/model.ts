/**
 * @module model
 * The control plane's records (what is stored in etcd, under which key) and the bodies of
 * its API, as zod schemas: one definition serves request validation, the stored shape
 * and the OpenAPI document.
 */
import { Hostname } from "@quantix/core";
import { z } from "zod";

/** Key layout under the store prefix (`/quantix/`). */
export const KEYS = {
  cluster: "cluster/info",
  ca: "cluster/ca",
  token: (id: string) => `tokens/${id}`,
  tokens: "tokens/",
  apiToken: (id: string) => `api-tokens/${id}`,
  apiTokens: "api-tokens/",
  node: (id: string) => `nodes/${id}`,
  nodes: "nodes/",
  nodeName: (hostname: string) => `node-names/${hostname}`,
  status: (id: string) => `status/${id}`,
  statuses: "status/",
  condition: (id: string) => `conditions/${id}`,
  conditions: "conditions/",
  event: (id: string) => `events/${id}`,
  events: "events/",
} as const;

/** A kubeadm bootstrap token: `[a-z0-9]{6}.[a-z0-9]{16}`. */
export const JOIN_TOKEN_RE = /^([a-z0-9]{6})\.([a-z0-9]{16})$/;

export const ClusterInfo = z.object({
  name: z.string(),
  id: z.string(),
  createdAt: z.string(),
  caPin: z.string(),
});
export type ClusterInfo = z.infer<typeof ClusterInfo>;

export interface StoredJoinToken {
  readonly id: string;
  /** hex SHA-256 of the secret half: the secret itself is never stored. */
  readonly secretHash: string;
  readonly description: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly usageLimit: number | null;
  readonly uses: number;
  readonly revokedAt?: string;
  readonly createdBy: string;
}

export const Role = z.enum(["admin", "read-only"]);
export type Role = z.infer<typeof Role>;

export interface StoredApiToken {
  readonly id: string;
  readonly secretHash: string;
  readonly role: Role;
  readonly description: string;
  readonly createdAt: string;
}

export interface StoredNode {
  readonly nodeId: string;
  readonly hostname: string;
  readonly joinedAt: string;
  readonly joinedWith: string;
  readonly addresses: readonly string[];
  readonly certSerial: string;
  /** The certificate issued before the current one, accepted until the agent switches. */
  readonly prevCertSerial?: string;
  readonly certNotBefore: string;
  readonly certNotAfter: string;
  readonly roles: readonly ("control-plane" | "worker")[];
}

export const VmSummary = z.object({
  name: z.string().max(64),
  state: z.string().max(32),
  vcpus: z.number().int().min(0).max(1024).optional(),
  memoryMiB: z.number().int().min(0).optional(),
});

/** What a node's agent reports every heartbeat. */
export const NodeStatusReport = z
  .object({
    version: z.string().max(64),
    cpus: z.number().int().min(0).max(4096),
    cpuUsage: z.number().min(0).max(1).optional(),
    memoryBytes: z.number().int().min(0),
    memoryFreeBytes: z.number().int().min(0),
    dataBytes: z.number().int().min(0).optional(),
    dataFreeBytes: z.number().int().min(0).optional(),
    health: z.enum(["ok", "degraded", "failing"]).optional(),
    vms: z.array(VmSummary).max(4096).default([]),
  })
  .strict();
export type NodeStatusReport = z.infer<typeof NodeStatusReport>;

export interface StoredStatus extends NodeStatusReport {
  /** Control-plane clock (ms) when the heartbeat arrived: the node's lease renewal. */
  readonly seenAt: number;
  readonly via: string;
}

export interface StoredCondition {
  readonly ready: boolean;
  readonly since: string;
  readonly reason: string;
}

export const JoinRequest = z
  .object({
    token: z.string().max(64),
    hostname: Hostname,
    nodeId: z.uuid({ message: "expected the node's UUID (node_id in /quantix/node.yaml)" }),
    csr: z.string().max(8192),
    addresses: z.array(z.ipv4()).max(16).default([]),
    /** The node's clock (ISO): refused when it is too far from the control plane's. */
    time: z.iso.datetime(),
    /** Replace a node of the same host name (re-join after a reinstall). */
    replace: z.boolean().default(false),
  })
  .strict();
export type JoinRequest = z.infer<typeof JoinRequest>;

export const TokenCreate = z
  .object({
    description: z.string().max(200).default(""),
    /** Lifetime in seconds: 1 minute to 30 days; kubeadm's default of 24 h. */
    ttlSeconds: z.number().int().min(60).max(30 * 86_400).default(86_400),
    usageLimit: z.number().int().min(1).max(10_000).nullable().default(null),
  })
  .strict();

export const ApiTokenCreate = z
  .object({
    role: Role,
    description: z.string().max(200).default(""),
  })
  .strict();

export const RenewRequest = z.object({ csr: z.string().max(8192) }).strict();

/** Largest request body qx-control reads (a join CSR, a status report with 4,096 VMs). */
export const BODY_LIMIT = 1024 * 1024;
/** A node without a heartbeat for this long is NotReady (Kubernetes' node-monitor-grace-period). */
export const NOT_READY_AFTER_MS = 40_000;
export const HEARTBEAT_SECONDS = 10;
/** Largest clock difference a joining node may have. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
