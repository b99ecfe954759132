/**
 * @module validate
 * Field validators of the DCUI's forms, run on every key press. Each returns null when
 * the text is acceptable, or a short message to show beside the field. This module
 * has the rules that need no schema; the address, URL, token and pin rules are core's
 * configuration schemas, in `validate-config.ts` (loaded when a form needs them: zod
 * costs ~13 MB of RSS that the idle main screen does not need).
 *
 * @example
 * ```ts
 * vlan("4095"); // "VLAN tag must be 1..4094"
 * ```
 */

export type Validator = (text: string) => string | null;

/** Validators that also accept an empty field (the value is optional). */
export function optional(v: Validator): Validator {
  return (text) => (text.trim() === "" ? null : v(text.trim()));
}

export function required(v: Validator): Validator {
  return (text) => (text.trim() === "" ? "required" : v(text.trim()));
}

/** VLAN tag 1..4094 (empty: untagged). */
export const vlan: Validator = (text) => (/^\d{1,4}$/.test(text) && Number(text) >= 1 && Number(text) <= 4094 ? null : "VLAN tag must be 1..4094");

export function splitList(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** The admin password rule of qx-node (`api/auth.ts` Password: 10..256 characters). */
export const password: Validator = (text) => (text.length < 10 ? "at least 10 characters" : text.length > 256 ? "at most 256 characters" : null);
