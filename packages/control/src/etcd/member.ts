/**
 * @module etcd/member
 * How an etcd member of the control plane is run: the command line (peer and client TLS
 * from the cluster CA, client certificates required on both ports, compaction so the
 * heartbeat history does not grow without bound) and a start helper that waits for the
 * member to answer. The OpenRC service on a node and the host tests use the same flags.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { request } from "node:https";

export interface MemberTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface MemberSpec {
  readonly name: string;
  readonly dataDir: string;
  readonly peerUrl: string;
  readonly clientUrl: string;
  /** name → peer URL of every voting member, this one included. */
  readonly initialCluster: Readonly<Record<string, string>>;
  readonly state: "new" | "existing";
  readonly clusterToken: string;
  readonly tls: MemberTlsFiles;
  /** Raft timings in ms; etcd's defaults (100/1000) unless set. */
  readonly heartbeatMs?: number;
  readonly electionMs?: number;
}

/** The etcd binary: $QX_ETCD, the image's (build/rootfs), else etcd on PATH. */
export function etcdBinary(): string {
  if (process.env.QX_ETCD) return process.env.QX_ETCD;
  for (const p of ["build/rootfs/usr/bin/etcd", "/usr/bin/etcd"]) if (existsSync(p)) return p;
  return "etcd";
}

export function etcdArgs(s: MemberSpec): string[] {
  const cluster = Object.entries(s.initialCluster)
    .map(([n, u]) => `${n}=${u}`)
    .join(",");
  return [
    `--name=${s.name}`,
    `--data-dir=${s.dataDir}`,
    `--listen-peer-urls=${s.peerUrl}`,
    `--initial-advertise-peer-urls=${s.peerUrl}`,
    `--listen-client-urls=${s.clientUrl}`,
    `--advertise-client-urls=${s.clientUrl}`,
    `--initial-cluster=${cluster}`,
    `--initial-cluster-state=${s.state}`,
    `--initial-cluster-token=${s.clusterToken}`,
    "--client-cert-auth",
    `--trusted-ca-file=${s.tls.caFile}`,
    `--cert-file=${s.tls.certFile}`,
    `--key-file=${s.tls.keyFile}`,
    "--peer-client-cert-auth",
    `--peer-trusted-ca-file=${s.tls.caFile}`,
    `--peer-cert-file=${s.tls.certFile}`,
    `--peer-key-file=${s.tls.keyFile}`,
    // Heartbeats rewrite the same keys every 10 s: keep 5 minutes of history.
    "--auto-compaction-mode=periodic",
    "--auto-compaction-retention=5m",
    "--quota-backend-bytes=2147483648",
    "--snapshot-count=10000",
    `--heartbeat-interval=${s.heartbeatMs ?? 100}`,
    `--election-timeout=${s.electionMs ?? 1000}`,
    "--logger=zap",
    "--log-level=warn",
  ];
}

export interface RunningMember {
  readonly spec: MemberSpec;
  readonly process: ChildProcess;
  /** stderr so far (etcd logs there). */
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startMember(spec: MemberSpec, binary = etcdBinary()): RunningMember {
  const child = spawn(binary, etcdArgs(spec), { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  });
  return {
    spec,
    process: child,
    log: () => log,
    stop: (signal = "SIGTERM") =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill(signal);
      }),
  };
}

/** Resolves when the member's /health answers true over mTLS, or throws after timeoutMs. */
export async function waitHealthy(clientUrl: string, tls: { caPem: string; certPem: string; keyPem: string }, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const u = new URL("/health", clientUrl);
        const req = request(u, { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, timeout: 2000 }, (res) => {
          let b = "";
          res.on("data", (d) => {
            b += d;
          });
          res.on("end", () => resolve(b));
        });
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", reject);
        req.end();
      });
      if (/"health":\s*"true"/.test(body)) return;
      last = body;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`etcd at ${clientUrl} is not healthy after ${timeoutMs} ms: ${last}`);
}
