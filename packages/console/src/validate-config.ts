/**
 * @module validate-config
 * The DCUI's validators for configuration values, built from core's configuration
 * schemas (one definition of each fact): what a form accepts is what qx-node and
 * node.yaml accept. Screens import this module lazily (it loads zod).
 *
 * @example
 * ```ts
 * const v = await import("./validate-config.ts");
 * v.ipv4("192.168.1.300"); // "expected an IPv4 address such as 192.168.1.1"
 * ```
 */
import { CaPin, ClusterUrl, InterfaceName, Ipv4, Ipv4Cidr, inSubnet, JoinToken } from "@quantix/core/config/schema";
import type { z } from "zod";
import { splitList, type Validator } from "./validate.ts";

function bySchema(schema: z.ZodType): Validator {
  return (text) => {
    const r = schema.safeParse(text);
    return r.success ? null : (r.error.issues[0]?.message ?? "invalid");
  };
}

export const ipv4: Validator = bySchema(Ipv4);
export const ipv4Cidr: Validator = bySchema(Ipv4Cidr);
export const interfaceName: Validator = bySchema(InterfaceName);
export const clusterUrl: Validator = bySchema(ClusterUrl);
export const joinToken: Validator = bySchema(JoinToken);
export const caPin: Validator = bySchema(CaPin);

/** A gateway inside the subnet of `address` (when the address is valid). */
export function gatewayFor(address: string): Validator {
  return (text) => {
    const e = ipv4(text);
    if (e) return e;
    if (ipv4Cidr(address) === null && !inSubnet(text, address)) return `outside ${address}`;
    return null;
  };
}

/** Up to three DNS servers, separated by spaces or commas. */
export const dnsList: Validator = (text) => {
  const list = splitList(text);
  if (list.length > 3) return "at most 3 DNS servers";
  for (const s of list) {
    const e = ipv4(s);
    if (e) return `${s}: ${e}`;
  }
  return null;
};
