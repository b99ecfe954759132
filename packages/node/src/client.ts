/**
 * @module client
 * A small client for qx-node's unix socket, for local tools (the console,
 * `qx-node health`). Plain HTTP over the socket; no network, no TLS.
 *
 * @example
 * ```ts
 * const { status, body } = await getLocal("/run/quantix/qx-node.sock", "/api/v1/health");
 * ```
 */
import { QxError } from "@quantix/core/errors"; // not the index: keeps qx-console's bundle small
import { httpRequest as request } from "@quantix/core/node-http"; // not node:http: see that module

/** Where qx-node listens for local tools (root only, mode 0600). */
export const DEFAULT_SOCKET = "/run/quantix/qx-node.sock";

/** qx-node did not answer on its socket (not running, or stuck). */
export class NodeUnreachableError extends QxError {
  override name = "NodeUnreachableError";
  constructor(
    readonly socketPath: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super("NODE_UNREACHABLE", `qx-node is not answering on ${socketPath}: ${detail}`, {
      ...options,
      hint: "is the quantix-node service running? (rc-service quantix-node status)",
    });
  }
}

export interface LocalResponse<T> {
  readonly status: number;
  readonly body: T;
}

/** GETs `path` from qx-node over its unix socket and parses the JSON answer. */
export function getLocal<T = unknown>(socketPath: string, path: string, timeoutMs = 5000): Promise<LocalResponse<T>> {
  return callLocal<T>(socketPath, "GET", path, undefined, timeoutMs);
}

/** Calls `method path` on qx-node's unix socket with an optional JSON body; parses the JSON answer. */
export function callLocal<T = unknown>(
  socketPath: string,
  method: "GET" | "POST" | "PUT" | "DELETE",
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<LocalResponse<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { accept: "application/json" };
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
        } catch (e) {
          reject(new NodeUnreachableError(socketPath, `answer to ${path} is not JSON (HTTP ${res.statusCode})`, { cause: e }));
        }
      });
      res.on("error", (e) => reject(new NodeUnreachableError(socketPath, e.message, { cause: e })));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) => {
      const why = e.code === "ENOENT" ? "no such socket" : e.code === "ECONNREFUSED" ? "connection refused" : e.message;
      reject(new NodeUnreachableError(socketPath, why, { cause: e }));
    });
    req.end(payload);
  });
}
