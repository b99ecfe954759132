/**
 * @module node-http
 * `node:http`'s `request`, loaded through `require` rather than an ESM `import`.
 *
 * On Node.js 22, `import … from "node:http"` builds an ES module facade of the
 * built-in, and building it reads every export, including the lazy `WebSocket`,
 * `CloseEvent` and `MessageEvent` getters, which load the whole of undici: 1.3 s of a
 * boot under emulation (a `--cpu-prof` of qx-boot, docs/boot-speed.md) for a client
 * that only speaks HTTP over a unix socket. `require` returns the CommonJS exports
 * as they are and leaves the getters alone (`process.moduleLoadList` shows no undici).
 *
 * @example
 * ```ts
 * const req = httpRequest({ socketPath, path: "/api/v1/health" }, onResponse);
 * ```
 */
import { createRequire } from "node:module";

const http = createRequire(import.meta.url)("node:http") as typeof import("node:http");

export const httpRequest: typeof import("node:http").request = http.request;
