/**
 * @module api/logs
 *   GET /api/v1/logs                       read   the log sources (files in /var/log/quantix, kernel)
 *   GET /api/v1/logs/:source?lines=N       read   the last N lines (default 200, at most 5000)
 *   GET /api/v1/logs/:source/follow        read   new lines as server-sent events (`data: {"lines":[...]}`)
 */
import { z } from "zod";
import { LogSource, LogSourceName, type NodeLogs } from "../services/logs.ts";
import { type Api, pathParams, route } from "./route.ts";
import { openEventStream, sseWriter } from "./sse.ts";

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
      const send = sseWriter(reply);
      const stop = await logs.follow(
        params.source,
        (lines) => send(`data: ${JSON.stringify({ lines })}\n\n`),
        (e) => send(`event: error\ndata: ${JSON.stringify({ message: e instanceof Error ? e.message : String(e) })}\n\n`),
      );
      openEventStream(req, reply, ": following\n\n", stop);
    },
  });
}
