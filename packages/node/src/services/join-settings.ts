/**
 * @module services/join-settings
 * The cluster join settings in `/quantix/node.yaml`: control plane URL (`cluster_url`),
 * join token (`join_token`, `<id>.<secret>`) and optional CA pin (`ca_pin`,
 * `sha256:<hex>`), validated by core's node.yaml schema and written through its
 * comment-keeping store. The join protocol itself is a later issue: these are only
 * stored, and `joined` stays false.
 *
 * @example
 * ```ts
 * await saveJoinSettings("/", { cluster_url: "https://cp.example:6443", join_token: "abcd.0123456789" });
 * (await readJoinSettings("/")).join_token; // "abcd.0123456789"
 * ```
 */
import { CaPin, ClusterUrl, JoinToken, nodeConfigFile } from "@quantix/core";
import { z } from "zod";

export const JoinSettingsInput = z
  .object({
    cluster_url: ClusterUrl,
    join_token: JoinToken,
    ca_pin: CaPin.nullable().optional().describe("absent or null: no pin (the stored one is removed)"),
  })
  .strict();
export type JoinSettingsInput = z.infer<typeof JoinSettingsInput>;

export const JoinSettings = z.object({
  cluster_url: z.string().nullable(),
  join_token: z.string().nullable(),
  ca_pin: z.string().nullable(),
  /** Always false until the join protocol exists. */
  joined: z.boolean(),
  protocol: z.literal("pending").describe("the cluster join protocol is not implemented yet: settings are only stored"),
});
export type JoinSettings = z.infer<typeof JoinSettings>;

/** The stored settings (nulls when node.yaml has none, or only its last good copy is readable). */
export async function readJoinSettings(root: string): Promise<JoinSettings> {
  const { value } = await nodeConfigFile(root).loadWithFallback();
  return {
    cluster_url: value?.cluster_url ?? null,
    join_token: value?.join_token ?? null,
    ca_pin: value?.ca_pin ?? null,
    joined: false,
    protocol: "pending",
  };
}

/** Writes the settings into node.yaml (comments and other fields kept); returns what is stored. */
export async function saveJoinSettings(root: string, input: JoinSettingsInput): Promise<JoinSettings> {
  await nodeConfigFile(root).update((doc) => {
    doc.set(["cluster_url"], input.cluster_url);
    doc.set(["join_token"], input.join_token);
    if (input.ca_pin) doc.set(["ca_pin"], input.ca_pin);
    else doc.delete(["ca_pin"]);
  });
  return readJoinSettings(root);
}
