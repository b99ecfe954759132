/**
 * @module node-api
 * The DCUI's only way to the node: qx-node's API as plain HTTP over its root-only unix
 * socket (a caller there is admin). Answers are `{ status, body }`; only an unreachable
 * daemon throws (`NodeUnreachableError`), so screens show 4xx messages as they come.
 *
 * @example
 * ```ts
 * const api = nodeApi("/run/quantix/qx-node.sock");
 * const { status, body } = await api.call("POST", "/api/v1/services/libvirtd/restart");
 * const stop = api.follow("/api/v1/logs/qx-node/follow", (lines) => show(lines));
 * ```
 */
import { NodeUnreachableError } from "@quantix/node/client";
import { httpRequest as request } from "@quantix/core/node-http"; // not node:http: see that module

export type Method = "GET" | "POST" | "PUT" | "DELETE";

export interface Answer<T = unknown> {
  readonly status: number;
  readonly body: T;
}

export interface NodeApi {
  readonly socketPath: string;
  call<T = unknown>(method: Method, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer<T>>;
  /** Follows a server-sent-events route; returns the function that stops it. */
  follow(path: string, onLines: (lines: string[]) => void, onEnd: (why: string) => void): () => void;
}

/** The `message` of qx-node's error body `{ error, message, field? }`, or the status. */
export function errorText(a: Answer): string {
  const b = a.body as { message?: unknown; field?: unknown } | null;
  const msg = typeof b?.message === "string" ? b.message : `HTTP ${a.status}`;
  return typeof b?.field === "string" ? `${b.field.replace(/^body\./, "")}: ${msg}` : msg;
}

export function nodeApi(socketPath: string, timeoutMs = 10_000): NodeApi {
  const unreachable = (e: NodeJS.ErrnoException): NodeUnreachableError =>
    new NodeUnreachableError(socketPath, e.code === "ENOENT" ? "no such socket" : e.code === "ECONNREFUSED" ? "connection refused" : e.message, { cause: e });

  return {
    socketPath,
    call<T>(method: Method, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
      return new Promise((resolve, reject) => {
        const data = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          {
            socketPath,
            path,
            method,
            headers: { accept: "application/json", ...(data ? { "content-type": "application/json" } : {}), ...headers },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              let parsed: unknown = text;
              try {
                parsed = text ? JSON.parse(text) : null;
              } catch {
                // not JSON: keep the text
              }
              resolve({ status: res.statusCode ?? 0, body: parsed as T });
            });
            res.on("error", (e) => reject(unreachable(e)));
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (e) => reject(unreachable(e)));
        req.end(data);
      });
    },
    follow(path, onLines, onEnd) {
      let buf = "";
      let ended = false;
      const end = (why: string): void => {
        if (ended) return;
        ended = true;
        onEnd(why);
      };
      const req = request({ socketPath, path, method: "GET", headers: { accept: "text/event-stream" } }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          return end(`HTTP ${res.statusCode}`);
        }
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buf += chunk;
          for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
            const event = buf.slice(0, i);
            buf = buf.slice(i + 2);
            for (const line of event.split("\n")) {
              if (!line.startsWith("data: ")) continue;
              try {
                const d = JSON.parse(line.slice(6)) as { lines?: unknown };
                if (Array.isArray(d.lines)) onLines(d.lines.map(String));
              } catch {
                // a malformed event is skipped
              }
            }
          }
        });
        res.on("end", () => end("the stream ended"));
        res.on("error", (e) => end(e.message));
      });
      req.on("error", (e) => end(e.message));
      req.end();
      return () => {
        ended = true;
        req.destroy();
      };
    },
  };
}
