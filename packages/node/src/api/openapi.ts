/**
 * @module api/openapi
 * `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, built from the routes
 * declared with {@link route} and their zod schemas (`z.toJSONSchema`), so it always
 * describes what the server validates.
 */
import { z } from "zod";
import { type Api, type RouteDoc, route } from "./route.ts";

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const s = z.toJSONSchema(schema, { io, unrepresentable: "any", target: "draft-2020-12" }) as Json;
  delete s["$schema"];
  return s;
}

/** `/api/v1/services/:name` → `/api/v1/services/{name}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, "{$1}");
}

function parameters(r: RouteDoc): Json[] {
  const out: Json[] = [];
  for (const [where, obj] of [
    ["path", r.params],
    ["query", r.query],
  ] as const) {
    if (!obj) continue;
    const shape = jsonSchema(obj, "input");
    const props = (shape["properties"] ?? {}) as Record<string, Json>;
    const required = new Set((shape["required"] ?? []) as string[]);
    for (const [name, schema] of Object.entries(props)) {
      out.push({ name, in: where, required: where === "path" || required.has(name), schema });
    }
  }
  return out;
}

const ERROR_SCHEMA = {
  type: "object",
  properties: { error: { type: "string" }, message: { type: "string" }, field: { type: "string" } },
  required: ["error", "message"],
};

function operation(r: RouteDoc): Json {
  const responses: Record<string, Json> = {
    "200": {
      description: r.stream ? "a stream of server-sent events" : "success",
      content: r.stream
        ? { "text/event-stream": { schema: { type: "string" } } }
        : { "application/json": { schema: r.response ? jsonSchema(r.response, "output") : {} } },
    },
  };
  const err = (description: string) => ({ description, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } });
  if (r.params || r.query || r.body || r.rawBody) responses["400"] = err("the request does not match its schema (field names the path)");
  if (r.scope !== "public") {
    responses["401"] = err("no valid credential");
    responses["403"] = err("the credential's scope is not enough");
  }
  for (const [code, description] of Object.entries(r.errors ?? {})) responses[code] = err(description);
  const op: Json = {
    operationId: `${r.method.toLowerCase()}${openApiPath(r.url).replace(/^\/api\/v1/, "").replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
    summary: r.summary,
    tags: [r.tag],
    "x-qx-scope": r.scope,
    security: r.scope === "public" ? [] : [{ bearer: [] }],
    responses,
  };
  if (r.description) op["description"] = r.description;
  const params = parameters(r);
  if (params.length > 0) op["parameters"] = params;
  if (r.body) op["requestBody"] = { required: true, content: { "application/json": { schema: jsonSchema(r.body, "input") } } };
  if (r.rawBody) op["requestBody"] = { required: true, content: { [r.rawBody]: { schema: { type: "string", format: "binary" } } } };
  return op;
}

/** The OpenAPI 3.1 document for `routes`. */
export function openApiDocument(routes: readonly RouteDoc[], info: { version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const p = openApiPath(r.url);
    paths[p] ??= {};
    paths[p][r.method.toLowerCase()] = operation(r);
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Quantix-OS node API",
      version: info.version,
      description:
        "The management API of one Quantix-OS node (qx-node). HTTPS only. Authenticate with a session token from " +
        "POST /api/v1/auth/login or an API token, as `Authorization: Bearer <token>`. Scopes: read < admin.",
    },
    servers: [{ url: "/" }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "a session token (qxs_...) or an API token (qxt_...)" } },
      schemas: { Error: ERROR_SCHEMA },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

/** Serves the document (built once, on first request, after every route is declared). */
export function openApiRoutes(api: Api, version: () => string): void {
  let cached: Json | null = null;
  route(api, {
    method: "GET",
    url: "/api/v1/openapi.json",
    scope: "read",
    tag: "meta",
    summary: "This API's OpenAPI 3.1 document",
    handler: async () => {
      cached ??= openApiDocument(api.routes, { version: version() });
      return cached;
    },
  });
}
