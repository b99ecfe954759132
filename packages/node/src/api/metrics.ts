/**
 * @module api/metrics
 *   GET /api/v1/metrics?range=1h|24h&since=MS    read   the host's CPU, memory, /data and network history
 *   GET /api/v1/vms/:name/metrics?since=MS        read   a VM's CPU, memory, disk and network, last hour at 10 s
 */
import { z } from "zod";
import { METRIC_RANGES, MetricPoint, type Metrics, VmMetricPoint } from "../services/metrics.ts";
import { VmName } from "../virt/spec.ts";
import type { VirtServices } from "../virt/virt-services.ts";
import { type Api, pathParams, route } from "./route.ts";

const Since = z.coerce.number({ message: "since must be a time in milliseconds since the epoch" }).int().nonnegative().optional();

export function metricsRoutes(api: Api, metrics: Metrics, virt: VirtServices): void {
  route(api, {
    method: "GET",
    url: "/api/v1/metrics",
    scope: "read",
    tag: "node",
    summary: "Host metrics history: every 10 s of the last hour (range=1h) or 5-minute averages of the last 24 hours (range=24h)",
    query: z
      .object({
        range: z.enum(Object.keys(METRIC_RANGES) as [keyof typeof METRIC_RANGES], { message: "range must be 1h or 24h" }).default("1h"),
        since: Since,
      })
      .strict(),
    response: z.object({ range: z.enum(["1h", "24h"]), intervalSeconds: z.number().int(), points: z.array(MetricPoint) }),
    handler: async ({ query }) => metrics.query(query.since === undefined ? { range: query.range } : { range: query.range, since: query.since }),
  });
  route(api, {
    method: "GET",
    url: "/api/v1/vms/:name/metrics",
    scope: "read",
    tag: "vms",
    summary: "A VM's figures from libvirt every 10 s for the last hour (empty while it is not running)",
    params: pathParams({ name: VmName }),
    query: z.object({ since: Since }).strict(),
    response: z.object({ name: z.string(), intervalSeconds: z.number().int(), points: z.array(VmMetricPoint) }),
    errors: { 404: "no such VM", 503: "libvirtd is not running" },
    handler: async ({ params, query }) => {
      await virt.vms.get(params.name);
      return { name: params.name, ...metrics.vm(params.name, query.since) };
    },
  });
}
