/**
 * @module tests/vm/lib/api-client
 * HTTPS client for a node's API that pins the node's certificate by its SHA-256
 * fingerprint (no CA involved: the node's certificate is self-signed).
 */
import { createReadStream, statSync } from "node:fs";
import type { ClientRequest } from "node:http";
import { request } from "node:https";
import type { PeerCertificate } from "node:tls";

export interface ApiResponse {
  status: number;
  body: string;
  json<T = unknown>(): T;
  fingerprint: string;
}

/** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints. */
export function normaliseFingerprint(f: string): string {
  return f.replace(/^sha256[:=]/i, "").replace(/[^0-9a-f]/gi, "").toUpperCase().replace(/(..)(?!$)/g, "$1:");
}

export class ApiClient {
  /** `pin`: expected certificate fingerprint; undefined = trust on first use and remember. */
  constructor(
    readonly baseUrl: string,
    public pin?: string,
  ) {}

  /** A JSON request (`body` JSON-encoded when given). */
  request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<ApiResponse> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return this.#send(method, path, { ...(payload ? { "content-type": "application/json" } : {}), ...headers }, timeoutMs, (req) => req.end(payload));
  }

  /** Streams the file `file` as the raw body (the update image upload). */
  upload(method: string, path: string, file: string, headers: Record<string, string>, timeoutMs: number): Promise<ApiResponse> {
    const h = { "content-type": "application/octet-stream", "content-length": String(statSync(file).size), ...headers };
    return this.#send(method, path, h, timeoutMs, (req, fail) => createReadStream(file).on("error", fail).pipe(req));
  }

  #send(method: string, path: string, headers: Record<string, string>, timeoutMs: number, write: (req: ClientRequest, fail: (e: Error) => void) => void): Promise<ApiResponse> {
    const url = new URL(path, this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          rejectUnauthorized: false, // verified by fingerprint below
          agent: false, // a fresh TLS handshake each time: a resumed session carries no certificate to pin
          headers,
          timeout: timeoutMs,
        },
        (res) => {
          const cert = (res.socket as unknown as { getPeerCertificate(): PeerCertificate }).getPeerCertificate();
          const fp = normaliseFingerprint(cert.fingerprint256 ?? "");
          if (this.pin && normaliseFingerprint(this.pin) !== fp) {
            res.destroy();
            reject(new Error(`certificate fingerprint ${fp} does not match the pinned ${this.pin}`));
            return;
          }
          this.pin ??= fp;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            resolve({ status: res.statusCode ?? 0, body: text, json: <T>() => JSON.parse(text) as T, fingerprint: fp });
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      req.on("error", reject);
      write(req, reject);
    });
  }

  get(path: string): Promise<ApiResponse> {
    return this.request("GET", path);
  }
}
