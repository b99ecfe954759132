/**
 * @module virt/console-proxy
 * Serves `GET /api/v1/vms/:name/console` (serial) and `/vnc` (RFB) as WebSockets:
 * the HTTP server's `upgrade` event is handled here, the caller is authenticated
 * (admin) from `Authorization: Bearer` or, for browsers that cannot set headers, a
 * `qx-auth.<token>` WebSocket subprotocol, and the socket is piped both ways to the
 * VM's unix socket. Plain (non-upgrade) requests to these URLs are answered by the
 * routes in api/vms with 426.
 */
import type { IncomingMessage } from "node:http";
import { connect } from "node:net";
import type { Duplex } from "node:stream";
import type { FastifyRequest } from "fastify";
import { HttpError } from "../api/http-errors.ts";
import { type Api, authorize } from "../api/route.ts";
import { acceptWebSocket, isUpgrade } from "./websocket.ts";
import type { VmService } from "./vm-service.ts";
import { VmName } from "./spec.ts";

const URL_RE = /^\/api\/v1\/vms\/([^/?#]+)\/(console|vnc)(?:\?.*)?$/;
export const CONSOLE_PROTOCOL = "qx-console";

function refuse(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: code, message });
  socket.end(`HTTP/1.1 ${status} ${code}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The bearer credential of an upgrade request: header, else the qx-auth.<token> subprotocol. */
function credential(req: IncomingMessage): string | undefined {
  if (req.headers.authorization) return req.headers.authorization;
  const protocols = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
  const token = protocols.find((p) => p.startsWith("qx-auth."))?.slice("qx-auth.".length);
  return token ? `Bearer ${token}` : undefined;
}

/** Installs the upgrade handler on `api`'s HTTP server. */
export function installConsoleProxy(api: Api, vms: VmService): void {
  api.app.server.on("upgrade", (req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => socket.destroy());
    void (async () => {
      const m = URL_RE.exec(req.url ?? "");
      if (!m || !isUpgrade(req)) return refuse(socket, 404, "NOT_FOUND", "no WebSocket at this URL");
      try {
        const principal = api.authenticate({ headers: { ...req.headers, authorization: credential(req) } } as unknown as FastifyRequest);
        authorize("admin", principal);
        const name = decodeURIComponent(m[1] ?? "");
        if (!VmName.safeParse(name).success) return refuse(socket, 400, "BAD_REQUEST", "params.name: not a VM name");
        const path = await vms.consoleSocket(name, m[2] === "vnc" ? "vnc" : "serial");
        const target = connect(path);
        target.once("error", (e) => {
          if (!socket.writable) return;
          refuse(socket, 502, "CONSOLE_UNAVAILABLE", `cannot reach the ${m[2]} of ${name}: ${e.message}`);
        });
        target.once("connect", () => {
          target.removeAllListeners("error");
          const offered = String(req.headers["sec-websocket-protocol"] ?? "").split(",").map((p) => p.trim());
          const ws = acceptWebSocket(req, socket, offered.includes(CONSOLE_PROTOCOL) ? { protocol: CONSOLE_PROTOCOL } : {});
          ws.on("message", (d: Buffer) => target.write(d));
          target.on("data", (d: Buffer) => ws.send(d));
          target.on("close", () => ws.close(1000, "the VM's console closed"));
          target.on("error", () => ws.close(1011, "console error"));
          ws.on("close", () => target.destroy());
        });
      } catch (e) {
        if (e instanceof HttpError) return refuse(socket, e.status, e.code, e.message);
        return refuse(socket, 500, "INTERNAL", "internal error");
      }
    })();
  });
}
