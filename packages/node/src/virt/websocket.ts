/**
 * @module virt/websocket
 * A minimal RFC 6455 WebSocket server side, enough to carry a byte stream (serial
 * console, VNC's RFB) between a browser and a unix socket: the handshake, masked
 * client frames (text, binary, ping, close, fragmented), unmasked binary server
 * frames. No extensions, no compression. Kept here instead of a dependency because
 * the image's size budget is tight and the need is this narrow.
 *
 * @example
 * ```ts
 * const ws = acceptWebSocket(req.raw, socket, { protocol: "binary" });
 * ws.on("message", (data) => target.write(data));
 * ws.send(Buffer.from("hello"));
 * ```
 */
import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
/** Largest message accepted from a client (keystrokes and RFB events are tiny). */
const MAX_MESSAGE = 1024 * 1024;

export interface WebSocketConnection extends EventEmitter {
  send(data: Buffer | string): void;
  close(code?: number, reason?: string): void;
  readonly closed: boolean;
}

/** The Sec-WebSocket-Accept value for a client key. */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + GUID).digest("base64");
}

/** Encodes one unmasked frame (server to client). */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

/** Whether `req` asks for a WebSocket upgrade. */
export function isUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? "").toLowerCase() === "websocket" && typeof req.headers["sec-websocket-key"] === "string";
}

/**
 * Completes the handshake on `socket` (the request's raw socket, taken over from the
 * HTTP server) and returns the connection. Emits `message` (Buffer) and `close`.
 */
export function acceptWebSocket(req: IncomingMessage, socket: Duplex, o: { protocol?: string } = {}): WebSocketConnection {
  const key = String(req.headers["sec-websocket-key"]);
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n` +
      `${o.protocol ? `Sec-WebSocket-Protocol: ${o.protocol}\r\n` : ""}\r\n`,
  );
  const ws = new EventEmitter() as WebSocketConnection & { closed: boolean };
  ws.closed = false;
  let buf = Buffer.alloc(0);
  let fragments: Buffer[] = [];
  const finish = () => {
    if (ws.closed) return;
    ws.closed = true;
    socket.destroy();
    ws.emit("close");
  };
  ws.send = (data) => {
    if (ws.closed) return;
    socket.write(encodeFrame(0x2, typeof data === "string" ? Buffer.from(data) : data));
  };
  ws.close = (code = 1000, reason = "") => {
    if (ws.closed) return;
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    socket.end(encodeFrame(0x8, payload));
    ws.closed = true;
    setTimeout(() => socket.destroy(), 1000).unref();
    ws.emit("close");
  };
  socket.on("data", (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    for (;;) {
      if (buf.length < 2) return;
      const b0 = buf[0] ?? 0;
      const b1 = buf[1] ?? 0;
      const fin = (b0 & 0x80) !== 0;
      const opcode = b0 & 0x0f;
      const masked = (b1 & 0x80) !== 0;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(MAX_MESSAGE)) return ws.close(1009, "message too big");
        len = Number(big);
        off = 10;
      }
      if (!masked) return ws.close(1002, "client frames must be masked");
      if (len > MAX_MESSAGE) return ws.close(1009, "message too big");
      if (buf.length < off + 4 + len) return;
      const mask = buf.subarray(off, off + 4);
      const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
      for (let i = 0; i < payload.length; i++) payload[i] = (payload[i] ?? 0) ^ (mask[i % 4] ?? 0);
      buf = buf.subarray(off + 4 + len);
      if (opcode === 0x8) {
        ws.close(1000);
        return;
      }
      if (opcode === 0x9) {
        socket.write(encodeFrame(0xa, payload));
        continue;
      }
      if (opcode === 0xa) continue;
      fragments.push(payload);
      if (fragments.reduce((n, f) => n + f.length, 0) > MAX_MESSAGE) return ws.close(1009, "message too big");
      if (fin) {
        const message = Buffer.concat(fragments);
        fragments = [];
        ws.emit("message", message);
      }
    }
  });
  socket.on("close", finish);
  socket.on("error", finish);
  return ws;
}
