/**
 * @module web/sse
 * Reads a server-sent-events response (the API's `api/sse` helper writes them):
 * `GET` with the session's bearer token, each `event:`/`data:` block parsed (data is
 * JSON), until the stream ends or `signal` aborts. Used by the changes stream
 * (activity.ts) and the logs' follow (app.ts); EventSource cannot send the
 * Authorization header, hence fetch.
 *
 * @example
 * ```ts
 * await readEvents("/api/v1/changes", token, signal, (type, data) => console.log(type, data));
 * ```
 */

/** One parsed block; `type` is "message" when the block names none (as EventSource does). */
export type OnEvent = (type: string, data: unknown) => void;

/** Splits SSE text into complete blocks; returns them and the incomplete rest. */
export function parseBlocks(buf: string): { events: { type: string; data: unknown }[]; rest: string } {
  const blocks = buf.split("\n\n");
  const rest = blocks.pop() ?? "";
  const events: { type: string; data: unknown }[] = [];
  for (const b of blocks) {
    const lines = b.split("\n");
    const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6));
    if (data.length === 0) continue; // a comment (": keep-alive") or an empty block
    const type = lines.find((l) => l.startsWith("event: "))?.slice(7) ?? "message";
    events.push({ type, data: JSON.parse(data.join("\n")) });
  }
  return { events, rest };
}

/** Reads `url` until it ends (resolves) or fails (rejects: HTTP status, network, abort). */
export async function readEvents(url: string, token: string, signal: AbortSignal, on: OnEvent): Promise<void> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, signal });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    const { events, rest } = parseBlocks(buf + value);
    buf = rest;
    for (const e of events) on(e.type, e.data);
  }
}
