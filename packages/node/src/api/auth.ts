/**
 * @module api/auth
 * Login, logout, password and API tokens:
 *
 *   POST   /api/v1/auth/login          public, rate-limited   → session token
 *   DELETE /api/v1/auth/session        read                   logout
 *   GET    /api/v1/auth/whoami         read
 *   PUT    /api/v1/auth/password       admin (current password required; ends every session)
 *   GET    /api/v1/auth/tokens         admin
 *   POST   /api/v1/auth/tokens         admin                  → the token, shown once
 *   DELETE /api/v1/auth/tokens/:id     admin
 *   POST   /api/v1/auth/admin-password local socket only (the DCUI sets the first password)
 */
import { z } from "zod";
import type { AuthService } from "../services/auth.ts";
import { TokenInfo, TokenName, TokenScope } from "../services/auth-store.ts";
import { removeInitialPassword } from "../services/initial-password.ts";
import { ConflictError, NotFoundError, UnauthorizedError, ValidationError } from "./http-errors.ts";
import { type Api, pathParams, route } from "./route.ts";

export const Password = z.string().min(10, "at least 10 characters").max(256, "at most 256 characters");
const Login = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict();
const LoginAnswer = z.object({ token: z.string(), expiresAt: z.string(), scope: TokenScope });

function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1]! : null;
}

export function authRoutes(api: Api, auth: AuthService, o: { root: string; local: boolean }): void {
  route(api, {
    method: "POST",
    url: "/api/v1/auth/login",
    scope: "public",
    tag: "auth",
    summary: "Log in as admin; returns a session token (30 min idle, 12 h at most)",
    body: Login,
    response: LoginAnswer,
    errors: { 401: "wrong user name or password", 429: "too many failed attempts from this address (Retry-After)" },
    handler: async ({ body, req }) => {
      const s = await auth.login(req.ip, body.username, body.password);
      return { ...s, scope: "admin" as const };
    },
  });

  route(api, {
    method: "DELETE",
    url: "/api/v1/auth/session",
    scope: "read",
    tag: "auth",
    summary: "Log out (end this session)",
    handler: async ({ req, principal }) => {
      if (principal?.kind !== "session") throw new ConflictError("this credential is not a session (revoke an API token instead)");
      auth.sessions.end(bearer(req.headers.authorization) ?? "");
      return { ok: true };
    },
  });

  route(api, {
    method: "GET",
    url: "/api/v1/auth/whoami",
    scope: "read",
    tag: "auth",
    summary: "The caller's credential: kind, scope, id",
    response: z.object({ kind: z.enum(["session", "token", "local"]), scope: TokenScope, id: z.string() }),
    handler: async ({ principal }) => principal,
  });

  route(api, {
    method: "PUT",
    url: "/api/v1/auth/password",
    scope: "admin",
    tag: "auth",
    summary: "Change the admin password (every session ends)",
    body: z.object({ current: z.string().min(1).max(256), password: Password }).strict(),
    errors: { 401: "the current password is wrong" },
    handler: async ({ body, req }) => {
      if (!(await auth.store.verifyAdmin("admin", body.current))) throw new UnauthorizedError("the current password is wrong");
      if (body.current === body.password) throw new ValidationError("body.password", "the new password is the current one");
      await auth.changePassword(body.password);
      await removeInitialPassword(o.root);
      req.log.info("admin password changed; all sessions ended");
      return { ok: true };
    },
  });

  route(api, {
    method: "GET",
    url: "/api/v1/auth/tokens",
    scope: "admin",
    tag: "auth",
    summary: "List API tokens (never their secrets)",
    response: z.array(TokenInfo),
    handler: async () => auth.store.listTokens(),
  });

  route(api, {
    method: "POST",
    url: "/api/v1/auth/tokens",
    scope: "admin",
    tag: "auth",
    summary: "Create an API token; the answer holds its only copy",
    body: z.object({ name: TokenName, scope: TokenScope }).strict(),
    response: TokenInfo.extend({ token: z.string() }),
    status: 201,
    errors: { 409: "too many tokens" },
    handler: async ({ body }) => {
      try {
        const { token, info } = await auth.store.createToken(body.name, body.scope);
        return { ...info, token };
      } catch (e) {
        if (e instanceof RangeError) throw new ConflictError(e.message);
        throw e;
      }
    },
  });

  route(api, {
    method: "DELETE",
    url: "/api/v1/auth/tokens/:id",
    scope: "admin",
    tag: "auth",
    summary: "Revoke an API token",
    params: pathParams({ id: z.string().regex(/^[0-9a-f]{16}$/, "expected a token id (16 hex digits)") }),
    errors: { 404: "no such token" },
    handler: async ({ params }) => {
      if (!(await auth.store.revokeToken(params.id))) throw new NotFoundError(`no API token ${params.id}`);
      return { ok: true };
    },
  });

  if (o.local) {
    route(api, {
      method: "POST",
      url: "/api/v1/auth/admin-password",
      scope: "admin",
      tag: "auth",
      summary: "Set the admin password without the current one (unix socket only: the DCUI at first boot)",
      body: z.object({ password: Password }).strict(),
      handler: async ({ body }) => {
        await auth.changePassword(body.password);
        await removeInitialPassword(o.root);
        return { ok: true };
      },
    });
  }
}
