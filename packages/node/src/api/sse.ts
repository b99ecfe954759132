/**
 * @module api/sse
 * The server-sent-events answer every streaming route gives (logs follow, changes):
 * the headers, a first comment line, a keep-alive comment every {@link KEEPALIVE_MS}
 * so proxies and browsers do not time an idle stream out, and one clean-up when
 * either side closes.
 */
import type { FastifyReply, FastifyRequest } from "fastify";

/** Comment line interval that keeps an idle stream open. */
export const KEEPALIVE_MS = 15_000;

/** Writes to the stream while it is open (a no-op after it ended). */
export function sseWriter(reply: FastifyReply): (text: string) => void {
  return (text) => {
    if (!reply.raw.writableEnded) reply.raw.write(text);
  };
}

/** Takes the answer over from fastify and streams it; `onEnd` runs once when it closes. */
export function openEventStream(req: FastifyRequest, reply: FastifyReply, hello: string, onEnd: () => void): void {
  const res = reply.raw;
  const send = sseWriter(reply);
  reply.hijack();
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    connection: "keep-alive",
  });
  send(hello);
  const keepalive = setInterval(() => send(": keepalive\n\n"), KEEPALIVE_MS);
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(keepalive);
    onEnd();
    if (!res.writableEnded) res.end();
  };
  req.raw.once("close", end);
  res.once("close", end);
}
