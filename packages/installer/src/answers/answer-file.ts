/**
 * @module answers/answer-file
 * The installer's answer file (`answers.yaml`), for unattended installs (PXE, tests)
 * and for presetting what the first boot uses. Validated with core's config schemas:
 * the hostname is core's `Hostname`, the network is `/quantix/network.yaml`'s
 * `NetworkConfig`. Errors name the file, the field and what was expected.
 *
 * ```yaml
 * disk: /dev/sda                # with erase: true, nothing is asked
 * erase: true
 * mode: install                 # or upgrade: keep /quantix and /data
 * data: xfs                     # or lvm (a volume group for a storage pool)
 * hostname: rack1-node3         # default: quantix-XXXX
 * network: { management: { interface: auto, mode: dhcp } }
 * admin_password_hash: "scrypt$15$8$1$...$..."   # qx-install hash-password
 * after: reboot                 # or poweroff, or stay
 * ```
 *
 * @example
 * ```ts
 * const answers = await loadAnswerFile("/mnt/answers.yaml"); // throws ConfigError
 * ```
 */
import { configFile, Hostname, NetworkConfig } from "@quantix/core";
import { z } from "zod";

/** The admin password hash format qx-node stores (`services/password-hash.ts`). */
export const AdminPasswordHash = z
  .string()
  .regex(
    /^scrypt\$(1\d|20)\$\d{1,2}\$\d{1,2}\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/,
    "expected an scrypt hash as printed by `qx-install hash-password` (scrypt$15$8$1$<salt>$<hash>)",
  );

export const DiskPath = z.string().regex(/^\/dev\/[A-Za-z0-9/_.:-]+$/, "expected a disk device such as /dev/sda or /dev/disk/by-id/...");

export const AfterInstall = z.enum(["reboot", "poweroff", "stay"], { message: "expected reboot, poweroff or stay" });
export type AfterInstall = z.infer<typeof AfterInstall>;

export const AnswerFile = z
  .object({
    disk: DiskPath.optional(),
    /** The erase confirmation, given in advance: with `disk`, the install runs unattended. */
    erase: z.boolean().default(false),
    mode: z.enum(["install", "upgrade"], { message: "expected install or upgrade" }).default("install"),
    data: z.enum(["xfs", "lvm"], { message: "expected xfs or lvm" }).default("xfs"),
    hostname: Hostname.optional(),
    network: NetworkConfig.optional(),
    admin_password_hash: AdminPasswordHash.optional(),
    after: AfterInstall.default("reboot"),
  })
  .strict();
export type AnswerFile = z.infer<typeof AnswerFile>;

/** What the installer leaves for the first boot on the config partition (`/quantix/install.yaml`). */
export const InstallSeed = z
  .object({
    installed_at: z.string(),
    version: z.string(),
    hostname: Hostname.optional(),
    network: NetworkConfig.optional(),
    admin_password_hash: AdminPasswordHash.optional(),
  })
  .strict();
export type InstallSeed = z.infer<typeof InstallSeed>;

/** Name of the seed file in /quantix. */
export const INSTALL_SEED_FILE = "install.yaml";

/** Loads and validates an answer file (throws core's ConfigError with file, field and expectation). */
export async function loadAnswerFile(path: string): Promise<AnswerFile> {
  return configFile(path, AnswerFile).load();
}

/** The parts of the answers the first boot needs, as YAML for the config partition, or null when there are none. */
export function seedFromAnswers(a: Partial<AnswerFile>, version: string, now = new Date()): InstallSeed | null {
  if (!a.hostname && !a.network && !a.admin_password_hash) return null;
  return InstallSeed.parse({
    installed_at: now.toISOString(),
    version,
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.network ? { network: a.network } : {}),
    ...(a.admin_password_hash ? { admin_password_hash: a.admin_password_hash } : {}),
  });
}
