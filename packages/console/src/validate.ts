/**
 * @module validate
 * Field validators of the DCUI's forms, run on every key press. Each returns null when
 * the text is acceptable, or a short message to show beside the field. The rules are
 * core's configuration schemas (one definition of each fact), so what the form
 * accepts is what qx-node and node.yaml accept.
 *
 * @example
 * ```ts
 * ipv4("192.168.1.300"); // "expected an IPv4 address such as 192.168.1.1"
 * ```
 */
import { CaPin, ClusterUrl, InterfaceName, Ipv4, Ipv4Cidr, inSubnet, JoinToken } from "@quantix/core/config/schema";
import type { z } from "zod";

export type Validator = (text: string) => string | null;

function bySchema(schema: z.ZodType): Validator {
  return (text) => {
    const r = schema.safeParse(text);
    return r.success ? null : (r.error.issues[0]?.message ?? "invalid");
  };
}

/** Validators that also accept an empty field (the value is optional). */
export function optional(v: Validator): Validator {
  return (text) => (text.trim() === "" ? null : v(text.trim()));
}

export function required(v: Validator): Validator {
  return (text) => (text.trim() === "" ? "required" : v(text.trim()));
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

/** VLAN tag 1..4094 (empty: untagged). */
export const vlan: Validator = (text) => (/^\d{1,4}$/.test(text) && Number(text) >= 1 && Number(text) <= 4094 ? null : "VLAN tag must be 1..4094");

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

export function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The admin password rule of qx-node (`api/auth.ts` Password: 10..256 characters). */
export const password: Validator = (text) => (text.length < 10 ? "at least 10 characters" : text.length > 256 ? "at most 256 characters" : null);
