/**
 * @module api/route
 * How every API route is declared: method, URL, required scope, and zod schemas for
 * params, query and body. One declaration registers the fastify route, checks the
 * credential (401/403 before the body is read), validates the request (400 naming the
 * field), and is recorded for the OpenAPI document, so the document and the
 * validation cannot disagree.
 *
 * @example
 * ```ts
 * route(api, {
 *   method: "PUT", url: "/api/v1/node", scope: "admin", tag: "node", summary: "Rename the node",
 *   body: z.object({ hostname: Hostname }),
 *   handler: async ({ body }) => renameNode(ctx, body.hostname),
 * });
 * ```
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { formatPath } from "@quantix/core";
import { ForbiddenError, UnauthorizedError, ValidationError } from "./http-errors.ts";

/** Who may call a route: anyone, a `read` credential (or better), or an `admin` one. */
export type Scope = "public" | "read" | "admin";
export type CredentialScope = "read" | "admin";

/** The authenticated caller. `local` is root on the node's unix socket. */
export interface Principal {
  readonly kind: "session" | "token" | "local";
  readonly scope: CredentialScope;
  /** Session or token id (never the secret). */
  readonly id: string;
}

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** What {@link route} records for the OpenAPI document. */
export interface RouteDoc {
  readonly method: Method;
  readonly url: string;
  readonly scope: Scope;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** A raw body instead of JSON (the streamed image upload). */
  readonly rawBody?: string;
  readonly response?: z.ZodType;
  /** The answer is a stream (`text/event-stream`). */
  readonly stream?: boolean;
  /** Status codes besides 200/400/401/403 this route answers, with what they mean. */
  readonly errors?: Readonly<Record<number, string>>;
}

/** The context a handler gets: validated parts plus the raw request. */
export interface Call<P, Q, B> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
  readonly principal: Principal | null;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
}

export interface RouteSpec<P extends z.ZodObject | undefined, Q extends z.ZodObject | undefined, B extends z.ZodType | undefined>
  extends Omit<RouteDoc, "params" | "query" | "body"> {
  readonly params?: P;
  readonly query?: Q;
  readonly body?: B;
  /** Answer with this status on success (default 200). */
  readonly status?: number;
  readonly handler: (
    call: Call<
      P extends z.ZodObject ? z.output<P> : Record<string, never>,
      Q extends z.ZodObject ? z.output<Q> : Record<string, never>,
      B extends z.ZodType ? z.output<B> : undefined
    >,
  ) => Promise<unknown>;
}

/** One fastify instance plus what its routes share. */
export interface Api {
  readonly app: FastifyInstance;
  /** Identifies the caller from the request; null when no (valid) credential. */
  readonly authenticate: (req: FastifyRequest) => Principal | null;
  /** Declared routes, for the OpenAPI document. */
  readonly routes: RouteDoc[];
}

const PRINCIPAL = Symbol("qx.principal");
type WithPrincipal = FastifyRequest & { [PRINCIPAL]?: Principal | null };

/** The principal the auth hook found for `req` (null on public routes without a credential). */
export function principalOf(req: FastifyRequest): Principal | null {
  return (req as WithPrincipal)[PRINCIPAL] ?? null;
}

/** Throws 401/403 unless `principal` may call a route of `scope`. */
export function authorize(scope: Scope, principal: Principal | null): void {
  if (scope === "public") return;
  if (!principal) throw new UnauthorizedError();
  if (scope === "admin" && principal.scope !== "admin") throw new ForbiddenError("admin", principal.scope);
}

/** Validates `data` against `schema`; a 400 naming `where.field` when it does not match. */
export function parsePart<S extends z.ZodType>(schema: S, data: unknown, where: "params" | "query" | "body"): z.output<S> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => ({ field: [where, formatPath(i.path)].filter(Boolean).join("."), message: i.message }));
  const first = issues[0] ?? { field: where, message: "invalid" };
  return failValidation(first.field, first.message, issues);
}

function failValidation(field: string, message: string, issues: ValidationError["issues"]): never {
  throw new ValidationError(field, message, issues);
}

/** Declares a route (see the module comment). */
export function route<P extends z.ZodObject | undefined = undefined, Q extends z.ZodObject | undefined = undefined, B extends z.ZodType | undefined = undefined>(
  api: Api,
  spec: RouteSpec<P, Q, B>,
): void {
  const { handler, status, ...doc } = spec;
  api.routes.push(doc as RouteDoc);
  api.app.route({
    method: spec.method,
    url: spec.url,
    onRequest: async (req) => {
      const principal = api.authenticate(req);
      (req as WithPrincipal)[PRINCIPAL] = principal;
      authorize(spec.scope, principal);
    },
    handler: async (req, reply) => {
      const params = spec.params ? parsePart(spec.params, req.params, "params") : {};
      const query = spec.query ? parsePart(spec.query, req.query ?? {}, "query") : {};
      let body: unknown;
      if (spec.body) body = parsePart(spec.body, req.body === undefined ? {} : req.body, "body");
      else if (spec.rawBody) body = req.body;
      const result = await handler({ params, query, body, principal: principalOf(req), req, reply } as Parameters<typeof handler>[0]);
      if (reply.sent) return reply;
      if (status) reply.code(status);
      return result ?? { ok: true };
    },
  });
}

/** A zod object for path parameters such as `:name`. */
export const pathParams = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();
