/**
 * @module api/storage
 *   GET    /api/v1/storage                        read    the pool: path, filesystem, capacity, usage
 *   GET    /api/v1/storage/volumes                read    volumes with size, allocation and the VMs using them
 *   POST   /api/v1/storage/volumes                admin   { name, size_mib } → an empty (sparse) raw volume (201)
 *   GET    /api/v1/storage/volumes/:name          read
 *   PUT    /api/v1/storage/volumes/:name/size     admin   { size_mib } grow (never shrink; not while a running VM uses it)
 *   PUT    /api/v1/storage/volumes/:name/content  admin   raw body (application/octet-stream) streamed into a new volume: ISO upload (201)
 *   DELETE /api/v1/storage/volumes/:name          admin   refused while a VM uses it
 */
import type { Readable } from "node:stream";
import { z } from "zod";
import { StorageError, VirtNotFoundError, VirtStateError } from "../virt/errors.ts";
import { MAX_VOLUME_MIB, VolumeName } from "../virt/spec.ts";
import { PoolInfo, Volume } from "../virt/storage-pool.ts";
import type { VirtServices } from "../virt/virt-services.ts";
import type { Activity } from "../services/activity.ts";
import { withProgress } from "../services/progress-stream.ts";
import { actorOf } from "./activity.ts";
import { type Api, pathParams, route } from "./route.ts";

const VOLUME_CONTENT_TYPE = "application/octet-stream";
const Name = pathParams({ name: VolumeName });
const Size = z.number().int().min(1, "at least 1 MiB").max(MAX_VOLUME_MIB, "at most 64 TiB");
const VolumeView = Volume.extend({ used_by: z.array(z.string()) });

export function storageRoutes(api: Api, virt: VirtServices, activity: Activity): void {
  const { pool, vms } = virt;
  const withUsers = async <T extends { name: string }>(vols: T[]) => {
    const users = await vms.volumeUsers().catch(() => new Map<string, string[]>());
    return vols.map((v) => ({ ...v, used_by: users.get(v.name) ?? [] }));
  };
  const runningUsers = async (name: string) => {
    const users = (await vms.volumeUsers()).get(name) ?? [];
    const all = await vms.list();
    return { users, running: all.filter((v) => users.includes(v.name) && v.state !== "shutoff" && v.state !== "crashed").map((v) => v.name) };
  };

  route(api, {
    method: "GET",
    url: "/api/v1/storage",
    scope: "read",
    tag: "storage",
    summary: "The VM storage pool on /data: filesystem, capacity, free space, provisioned size",
    response: PoolInfo,
    handler: async () => pool.info(),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/storage/volumes",
    scope: "read",
    tag: "storage",
    summary: "Every volume: size, allocation, format, and the VMs using it",
    response: z.object({ volumes: z.array(VolumeView) }),
    handler: async () => ({ volumes: await withUsers(await pool.list()) }),
  });
  route(api, {
    method: "POST",
    url: "/api/v1/storage/volumes",
    scope: "admin",
    tag: "storage",
    summary: "Create an empty raw volume (thin: it takes space as it is written)",
    body: z.object({ name: VolumeName, size_mib: Size }).strict(),
    response: Volume,
    status: 201,
    errors: { 409: "a volume of that name exists", 507: "larger than the pool" },
    handler: async ({ body }) => pool.create(body.name, body.size_mib),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/storage/volumes/:name",
    scope: "read",
    tag: "storage",
    summary: "One volume",
    params: Name,
    response: VolumeView,
    errors: { 404: "no such volume" },
    handler: async ({ params }) => {
      const v = await pool.get(params.name);
      if (!v) throw new VirtNotFoundError("volume", params.name);
      return (await withUsers([v]))[0];
    },
  });
  route(api, {
    method: "PUT",
    url: "/api/v1/storage/volumes/:name/size",
    scope: "admin",
    tag: "storage",
    summary: "Grow a volume (shrinking is refused; stop the VMs using it first)",
    params: Name,
    body: z.object({ size_mib: Size }).strict(),
    response: Volume,
    errors: { 404: "no such volume", 409: "shrinking, an ISO, or a running VM uses it" },
    handler: async ({ params, body }) => {
      const { running } = await runningUsers(params.name);
      if (running.length > 0) throw new VirtStateError(`volume ${params.name} is in use by running VM ${running.join(", ")}: shut it down first`);
      return pool.resize(params.name, body.size_mib);
    },
  });
  route(api, {
    method: "DELETE",
    url: "/api/v1/storage/volumes/:name",
    scope: "admin",
    tag: "storage",
    summary: "Delete a volume no VM uses",
    params: Name,
    errors: { 404: "no such volume", 409: "a VM uses it" },
    handler: async ({ params, principal }) => {
      const { users } = await runningUsers(params.name);
      if (users.length > 0) throw new VirtStateError(`volume ${params.name} is used by VM ${users.join(", ")}: delete or change the VM first`);
      await pool.remove(params.name);
      await activity.events.record({ severity: "info", kind: "volume.deleted", message: `Volume ${params.name} was deleted`, subject: `volume:${params.name}`, actor: actorOf(principal) });
      return { ok: true };
    },
  });
  // The raw upload bypasses the JSON body limit: only inside this plugin, only for this route.
  api.app.register(async (scoped) => {
    scoped.addContentTypeParser(VOLUME_CONTENT_TYPE, (_req, payload, done) => done(null, payload));
    route(
      { ...api, app: scoped },
      {
        method: "PUT",
        url: "/api/v1/storage/volumes/:name/content",
        scope: "admin",
        tag: "storage",
        summary: "Upload a new volume (an ISO image, a kernel...) as the raw body, streamed to /data",
        params: Name,
        rawBody: VOLUME_CONTENT_TYPE,
        response: Volume,
        status: 201,
        description: "The upload is a task (volume.upload) with progress and speed, cancellable with POST /api/v1/tasks/ID/cancel.",
        errors: { 409: "a volume of that name exists, the upload was cut short, or it was cancelled", 415: `the body must be ${VOLUME_CONTENT_TYPE}`, 507: "not enough free space" },
        handler: async ({ params, req, reply, principal }) => {
          if (!req.body || typeof (req.body as Readable).pipe !== "function") {
            throw new StorageError(409, `send the file as the raw body with Content-Type: ${VOLUME_CONTENT_TYPE}`);
          }
          const size = Number(req.headers["content-length"]);
          try {
            const total = Number.isFinite(size) ? size : null;
            return await activity.tasks.run(
              { kind: "volume.upload", title: `Upload volume ${params.name}`, target: `volume:${params.name}`, actor: actorOf(principal), cancellable: true },
              (t) => pool.upload(params.name, withProgress(req.body as Readable, t, total), total),
            );
          } finally {
            if (!req.raw.readableEnded) reply.header("connection", "close");
          }
        },
      },
    );
  });
}
