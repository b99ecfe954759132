/**
 * @module api/services
 *   GET  /api/v1/services                 read    status of libvirtd, openvswitch-switch, quantix-console, ssh
 *   GET  /api/v1/services/:name           read
 *   POST /api/v1/services/:name/restart   admin
 *   PUT  /api/v1/services/ssh             admin   { enabled } (409 while the image has no SSH server)
 */
import { z } from "zod";
import { ServiceName, ServiceStatus, type SystemServices } from "../services/system-services.ts";
import { type Api, pathParams, route } from "./route.ts";

export function servicesRoutes(api: Api, svc: SystemServices): void {
  route(api, {
    method: "GET",
    url: "/api/v1/services",
    scope: "read",
    tag: "services",
    summary: "Status of the managed services",
    response: z.array(ServiceStatus),
    handler: async () => svc.list(),
  });
  route(api, {
    method: "PUT",
    url: "/api/v1/services/ssh",
    scope: "admin",
    tag: "services",
    summary: "Enable or disable SSH (disabled by default)",
    body: z.object({ enabled: z.boolean() }).strict(),
    response: ServiceStatus,
    errors: { 409: "the image has no SSH server", 502: "rc-service or rc-update failed" },
    handler: async ({ body, req }) => {
      const s = await svc.setSsh(body.enabled);
      req.log.info({ enabled: body.enabled }, "SSH setting changed");
      return s;
    },
  });
  route(api, {
    method: "GET",
    url: "/api/v1/services/:name",
    scope: "read",
    tag: "services",
    summary: "Status of one service",
    params: pathParams({ name: ServiceName }),
    response: ServiceStatus,
    handler: async ({ params }) => svc.status(params.name),
  });
  route(api, {
    method: "POST",
    url: "/api/v1/services/:name/restart",
    scope: "admin",
    tag: "services",
    summary: "Restart a service",
    params: pathParams({ name: ServiceName }),
    response: ServiceStatus,
    errors: { 409: "not installed (or SSH disabled)", 502: "rc-service failed" },
    handler: async ({ params, req }) => {
      req.log.info({ service: params.name }, "restarting service");
      return svc.restart(params.name);
    },
  });
}
