/**
 * @module tests/integration/virt-ws-client
 * A small WebSocket client for tests (Node 20 has none built in): connects over
 * HTTPS with the node's certificate pinned, sends masked binary frames, and collects
 * what the server sends as one growing string.
 */
import { randomBytes } from "node:crypto";
import { request } from "node:https";
import type { Duplex } from "node:stream";

export interface WsClient {
  /** Everything received so far (binary frames decoded as UTF-8). */
  received(): string;
  send(text: string): void;
  /** Resolves when received() matches `re`; rejects after `ms`. */
  waitFor(re: RegExp, ms: number): Promise<string>;
  close(): void;
}

function frame(payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x82, 0x80 | len]) : Buffer.from([0x82, 0x80 | 126, len >> 8, len & 0xff]);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] ?? 0)));
  return Buffer.concat([head, mask, body]);
}

/** Opens a WebSocket to `path` on the node; rejects with the HTTP status and body when refused. */
export function connectWs(o: { port: number; ca: string; path: string; token?: string; protocols?: string[] }): Promise<WsClient> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      connection: "Upgrade",
      upgrade: "websocket",
      "sec-websocket-version": "13",
      "sec-websocket-key": randomBytes(16).toString("base64"),
    };
    if (o.token) headers["authorization"] = `Bearer ${o.token}`;
    if (o.protocols) headers["sec-websocket-protocol"] = o.protocols.join(", ");
    const req = request({ host: "127.0.0.1", port: o.port, path: o.path, headers, ca: o.ca, servername: "localhost" });
    req.on("response", (res) => {
      let body = "";
      res.on("data", (d: Buffer) => {
        body += d.toString();
      });
      res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    req.on("error", reject);
    req.on("upgrade", (_res, socket: Duplex, head: Buffer) => {
      let buf = Buffer.from(head);
      let text = "";
      const waiters: (() => void)[] = [];
      socket.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          if (buf.length < 2) break;
          let len = (buf[1] ?? 0) & 0x7f;
          let off = 2;
          if (len === 126) {
            if (buf.length < 4) break;
            len = buf.readUInt16BE(2);
            off = 4;
          } else if (len === 127) {
            if (buf.length < 10) break;
            len = Number(buf.readBigUInt64BE(2));
            off = 10;
          }
          if (buf.length < off + len) break;
          const opcode = (buf[0] ?? 0) & 0x0f;
          if (opcode === 1 || opcode === 2 || opcode === 0) text += buf.subarray(off, off + len).toString("utf8");
          buf = buf.subarray(off + len);
        }
        for (const w of waiters.splice(0)) w();
      });
      const client: WsClient = {
        received: () => text,
        send: (t) => socket.write(frame(Buffer.from(t))),
        waitFor: (re, ms) =>
          new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no ${re} within ${ms} ms; got: ${JSON.stringify(text.slice(-500))}`)), ms);
            const check = () => {
              if (re.test(text)) {
                clearTimeout(timer);
                ok(text);
              } else waiters.push(check);
            };
            check();
          }),
        close: () => socket.destroy(),
      };
      resolve(client);
    });
    req.end();
  });
}
