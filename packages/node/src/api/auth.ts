/**
 * @module api/auth
 * Login, logout, password and API tokens:
 *
 *   POST   /api/v1/auth/login          public, rate-limited   → session token + device token
 *   DELETE /api/v1/auth/session        read                   logout
 *   GET    /api/v1/auth/whoami         read
 *   PUT    /api/v1/auth/password       admin (current password required; ends every session)
 *   GET    /api/v1/auth/tokens         admin
 *   POST   /api/v1/auth/tokens         admin                  → the token, shown once
 *   DELETE /api/v1/auth/tokens         admin                  revoke every API token
 *   DELETE /api/v1/auth/tokens/:id     admin
 *   POST   /api/v1/auth/admin-password local socket only (the DCUI and `qx-node set-admin-password`)
 *   DELETE /api/v1/auth/lockouts       local socket only (end every login back-off)
 */
import { z } from "zod";
import type { AuthService, PasswordChange } from "../services/auth.ts";
import { TokenInfo, TokenName, TokenScope } from "../services/auth-store.ts";
import { removeInitialPassword } from "../services/initial-password.ts";
import type { EventLog } from "../services/events.ts";
import { ConflictError, NotFoundError, RateLimitError, UnauthorizedError, ValidationError } from "./http-errors.ts";
import { actorOf } from "./activity.ts";
import { type Api, pathParams, type Principal, route } from "./route.ts";

export const Password = z.string().min(10, "at least 10 characters").max(256, "at most 256 characters");
const Login = z
  .object({
    username: z.string().min(1).max(64),
    password: z.string().min(1).max(256),
    device: z.string().max(128).optional().describe("the device token of an earlier login from this client: its own allowance of attempts"),
  })
  .strict();
const LoginAnswer = z.object({
  token: z.string(),
  expiresAt: z.string(),
  scope: TokenScope,
  device: z.string().describe("present it as `device` at the next login from this client"),
});
const PasswordChanged = z.object({
  ok: z.literal(true),
  sessionsEnded: z.number().int().describe("sessions ended, this one included"),
  tokensRevoked: z.number().int().describe("API tokens revoked (only with revokeTokens: API tokens survive a password change otherwise)"),
});
const RevokeTokens = z.boolean().optional().describe("also revoke every API token");

function bearer(header: string | undefined): string | null {
  const m = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return m ? m[1]! : null;
}

export function authRoutes(api: Api, auth: AuthService, o: { root: string; local: boolean; events: EventLog }): void {
  const security = (message: string, principal: Principal | null, severity: "info" | "warning" = "info") =>
    o.events.record({ severity, kind: "auth.change", message, subject: "node", actor: actorOf(principal) });
  route(api, {
    method: "POST",
    url: "/api/v1/auth/login",
    scope: "public",
    tag: "auth",
    summary: "Log in as admin; returns a session token (30 min idle, 12 h at most)",
    body: Login,
    response: LoginAnswer,
    errors: { 401: "wrong user name or password", 429: "too many failed attempts: wait (Retry-After), the wait grows with each failure" },
    handler: async ({ body, req }) => {
      try {
        const s = await auth.login(req.ip, body.username, body.password, body.device);
        return { ...s, scope: "admin" as const };
      } catch (e) {
        if (e instanceof UnauthorizedError || e instanceof RateLimitError) {
          // The name is what the client typed: shown printable and short.
          const who = body.username.replace(/[^\x20-\x7e]/g, "?").slice(0, 64);
          await o.events.record({
            severity: "warning",
            kind: e instanceof RateLimitError ? "auth.login-refused" : "auth.login-failed",
            message: e instanceof RateLimitError ? `Login as ${who} from ${req.ip} refused: too many failed attempts` : `Failed login as ${who} from ${req.ip}`,
            subject: "node",
          });
        }
        throw e;
      }
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
    summary: "Change the admin password: every session ends (this one too), API tokens stay unless revokeTokens",
    body: z.object({ current: z.string().min(1).max(256), password: Password, revokeTokens: RevokeTokens }).strict(),
    response: PasswordChanged,
    errors: { 400: "the current password is wrong (field body.current), or the new one is the current one" },
    handler: async ({ body, req, principal }) => {
      if (body.current === body.password) throw new ValidationError("body.password", "the new password is the current one");
      const r = await auth.changePassword(body.password, { current: body.current, revokeTokens: body.revokeTokens ?? false });
      // 400 on the field, not 401: the caller's credential is fine (a UI must not log out on a typo).
      if (!r) throw new ValidationError("body.current", "the current password is wrong");
      await removeInitialPassword(o.root);
      req.log.info(r, "admin password changed; all sessions ended");
      await security(`The admin password was changed; ${r.sessionsEnded} session(s) ended${body.revokeTokens ? `, ${r.tokensRevoked} API token(s) revoked` : ""}`, principal);
      return { ok: true as const, ...r };
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
    handler: async ({ body, principal }) => {
      try {
        const { token, info } = await auth.store.createToken(body.name, body.scope);
        await security(`API token "${info.name}" (${info.scope}) was created`, principal);
        return { ...info, token };
      } catch (e) {
        if (e instanceof RangeError) throw new ConflictError(e.message);
        throw e;
      }
    },
  });

  route(api, {
    method: "DELETE",
    url: "/api/v1/auth/tokens",
    scope: "admin",
    tag: "auth",
    summary: "Revoke every API token (sessions stay)",
    response: z.object({ revoked: z.number().int() }),
    handler: async ({ req, principal }) => {
      const revoked = await auth.store.revokeAllTokens();
      req.log.warn({ revoked }, "every API token revoked");
      await security(`Every API token was revoked (${revoked})`, principal, "warning");
      return { revoked };
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
    handler: async ({ params, principal }) => {
      if (!(await auth.store.revokeToken(params.id))) throw new NotFoundError(`no API token ${params.id}`);
      await security(`API token ${params.id} was revoked`, principal);
      return { ok: true };
    },
  });

  if (o.local) {
    route(api, {
      method: "POST",
      url: "/api/v1/auth/admin-password",
      scope: "admin",
      tag: "auth",
      summary: "Set the admin password without the current one (unix socket only: the DCUI, qx-node set-admin-password); ends every session and lock-out",
      body: z.object({ password: Password, revokeTokens: RevokeTokens }).strict(),
      response: PasswordChanged,
      handler: async ({ body, req, principal }) => {
        const r = (await auth.changePassword(body.password, { revokeTokens: body.revokeTokens ?? false })) as PasswordChange;
        await removeInitialPassword(o.root);
        req.log.warn(r, "admin password reset at the console; all sessions ended");
        await security(`The admin password was reset at the node's console; ${r.sessionsEnded} session(s) ended`, principal, "warning");
        return { ok: true as const, ...r };
      },
    });

    route(api, {
      method: "DELETE",
      url: "/api/v1/auth/lockouts",
      scope: "admin",
      tag: "auth",
      summary: "End every login back-off (unix socket only)",
      handler: async () => {
        auth.clearLockouts();
        return { ok: true };
      },
    });
  }
}
