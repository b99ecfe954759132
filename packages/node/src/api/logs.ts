/**
 * @module api/logs
 *   GET /api/v1/logs                       read   the log sources (files in /var/log/quantix, kernel)
 *   GET /api/v1/logs/:source?lines=N       read   the last N lines (default 200, at most 5000)
 *   GET /api/v1/logs/:source/follow        read   new lines as server-sent events (`data: {"lines":[...]}`)
 */
import { z } from "zod";
import { LogSource, LogSourceName, type NodeLogs } from "../services/logs.ts";
import { type Api, pathParams, route } from "./route.ts";

/** Comment line sent to keep proxies and browsers from timing out an idle stream. */
const KEEPALIVE_MS = 15_000;

export function logsRoutes(api: Api, logs: NodeLogs): void {
  route(api, {
    method: "GET",
    url: "/api/v1/logs",
    scope: "read",
    tag: "logs",
    summary: "The log sources",
    response: z.array(LogSource),
    handler: async () => logs.sources(),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/logs/:source",
    scope: "read",
    tag: "logs",
    summary: "Recent lines of a log",
    params: pathParams({ source: LogSourceName }),
    query: z.object({ lines: z.coerce.number().int().min(1).max(5000).default(200) }).strict(),
    response: z.object({ source: z.string(), lines: z.array(z.string()) }),
    errors: { 404: "no such log" },
    handler: async ({ params, query }) => ({ source: params.source, lines: await logs.recent(params.source, query.lines) }),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/logs/:source/follow",
    scope: "read",
    tag: "logs",
    summary: "Follow a log: server-sent events, one `data:` JSON object `{ lines }` per batch",
    params: pathParams({ source: LogSourceName }),
    stream: true,
    errors: { 404: "no such log", 409: "too many streams open" },
    handler: async ({ params, req, reply }) => {
      const res = reply.raw;
      let stop: (() => void) | null = null;
      const send = (event: string) => {
        if (!res.writableEnded) res.write(event);
      };
      stop = await logs.follow(
        params.source,
        (lines) => send(`data: ${JSON.stringify({ lines })}\n\n`),
        (e) => send(`event: error\ndata: ${JSON.stringify({ message: e instanceof Error ? e.message : String(e) })}\n\n`),
      );
      reply.hijack();
      res.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        connection: "keep-alive",
      });
      send(": following\n\n");
      const keepalive = setInterval(() => send(": keepalive\n\n"), KEEPALIVE_MS);
      const end = () => {
        clearInterval(keepalive);
        stop?.();
        if (!res.writableEnded) res.end();
      };
      req.raw.once("close", end);
      res.once("close", end);
    },
  });
}
