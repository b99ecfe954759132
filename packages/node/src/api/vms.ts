/**
 * @module api/vms
 *   GET    /api/v1/vms                      read    every VM with live state
 *   POST   /api/v1/vms                      admin   create from a spec (201); checked in full first, nothing half-made
 *   GET    /api/v1/vms/:name                read
 *   DELETE /api/v1/vms/:name                admin   ?force=true powers a running VM off; ?delete_disks=true removes its disk volumes
 *   POST   /api/v1/vms/:name/:action        admin   start | shutdown (ACPI) | force-off | reboot (ACPI)
 *   PUT    /api/v1/vms/:name/autostart      admin   { enabled }
 *   GET    /api/v1/vms/:name/console        admin   WebSocket: the serial console (426 without an upgrade)
 *   GET    /api/v1/vms/:name/vnc            admin   WebSocket: the VNC display's RFB stream
 */
import { z } from "zod";
import { installConsoleProxy } from "../virt/console-proxy.ts";
import { VmInfo, VmName, VmSpec } from "../virt/spec.ts";
import type { VirtServices } from "../virt/virt-services.ts";
import { HttpError } from "./http-errors.ts";
import type { Activity } from "../services/activity.ts";
import { actorOf } from "./activity.ts";
import { type Api, pathParams, route } from "./route.ts";

const Name = pathParams({ name: VmName });
const Flag = z.enum(["true", "false", "1", "0"], { message: "expected true or false" }).transform((v) => v === "true" || v === "1");
const Action = z.enum(["start", "shutdown", "force-off", "reboot"], { message: "expected start, shutdown, force-off or reboot" });

class UpgradeRequiredError extends HttpError {
  override name = "UpgradeRequiredError";
  constructor(what: string) {
    super(426, "UPGRADE_REQUIRED", `${what} is a WebSocket: connect with Upgrade: websocket (subprotocol qx-console; browsers pass the token as subprotocol qx-auth.<token>)`);
  }
}

export function vmRoutes(api: Api, virt: VirtServices, activity: Activity): void {
  const { tasks } = activity;
  const { vms } = virt;
  route(api, {
    method: "GET",
    url: "/api/v1/vms",
    scope: "read",
    tag: "vms",
    summary: "Every VM on the node, with its live state",
    response: z.object({ vms: z.array(VmInfo) }),
    errors: { 503: "libvirtd is not running" },
    handler: async () => ({ vms: await vms.list() }),
  });
  route(api, {
    method: "POST",
    url: "/api/v1/vms",
    scope: "admin",
    tag: "vms",
    summary: "Create a VM from a spec (new disk volumes are made; start: true starts it)",
    description:
      "Everything is checked before anything is made: the name, memory against the host, networks in network.yaml, the ISO and " +
      "existing volumes in the pool. If a later step fails, what was made is removed again.",
    body: VmSpec,
    response: VmInfo,
    status: 201,
    errors: { 409: "a VM or volume of that name exists, or a volume is another VM's disk", 503: "libvirtd is not running" },
    handler: async ({ body, principal }) =>
      tasks.run({ kind: "vm.create", title: `Create VM ${body.name}`, target: `vm:${body.name}`, actor: actorOf(principal) }, async (t) => {
        t.progress(null, body.start ? "checking, making the disks, defining and starting" : "checking, making the disks and defining");
        return vms.create(body);
      }),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/vms/:name",
    scope: "read",
    tag: "vms",
    summary: "One VM",
    params: Name,
    response: VmInfo,
    errors: { 404: "no such VM" },
    handler: async ({ params }) => vms.get(params.name),
  });
  route(api, {
    method: "DELETE",
    url: "/api/v1/vms/:name",
    scope: "admin",
    tag: "vms",
    summary: "Delete a VM; force=true powers it off first, delete_disks=true also removes its disk volumes (not ISOs)",
    params: Name,
    query: z.object({ force: Flag.default(false), delete_disks: Flag.default(false) }).strict(),
    response: z.object({ name: z.string(), volumes_deleted: z.array(z.string()) }),
    errors: { 404: "no such VM", 409: "the VM is running and force is not set" },
    handler: async ({ params, query, principal }) =>
      tasks.run(
        { kind: "vm.delete", title: `Delete VM ${params.name}${query.delete_disks ? " and its disks" : ""}`, target: `vm:${params.name}`, actor: actorOf(principal) },
        () => vms.remove(params.name, { force: query.force, deleteDisks: query.delete_disks }),
      ),
  });
  route(api, {
    method: "PUT",
    url: "/api/v1/vms/:name/autostart",
    scope: "admin",
    tag: "vms",
    summary: "Start the VM with the node (or not)",
    params: Name,
    body: z.object({ enabled: z.boolean() }).strict(),
    response: VmInfo,
    errors: { 404: "no such VM" },
    handler: async ({ params, body }) => vms.setAutostart(params.name, body.enabled),
  });
  for (const kind of ["console", "vnc"] as const) {
    route(api, {
      method: "GET",
      url: `/api/v1/vms/:name/${kind}`,
      scope: "admin",
      tag: "vms",
      summary: kind === "console" ? "The serial console as a WebSocket (binary frames both ways)" : "The VNC display as a WebSocket carrying RFB (for noVNC-style clients)",
      params: Name,
      errors: { 404: "no such VM", 409: "the VM is not running", 426: "not a WebSocket upgrade request" },
      handler: async ({ params }) => {
        await vms.get(params.name);
        throw new UpgradeRequiredError(`/api/v1/vms/${params.name}/${kind}`);
      },
    });
  }
  route(api, {
    method: "POST",
    url: "/api/v1/vms/:name/:action",
    scope: "admin",
    tag: "vms",
    summary: "Power action: start, shutdown (ACPI, the guest decides), force-off (pull the plug) or reboot (ACPI)",
    params: pathParams({ name: VmName, action: Action }),
    response: VmInfo,
    errors: { 404: "no such VM", 409: "the VM's state does not allow it (e.g. start while running)" },
    handler: async ({ params }) => vms.action(params.name, params.action),
  });
  installConsoleProxy(api, vms);
}
