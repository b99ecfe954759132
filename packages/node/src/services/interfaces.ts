/**
 * @module services/interfaces
 * The node's network interfaces with their link state, read from sysfs
 * (`/sys/class/net/NAME/{type,operstate,carrier,address,speed}`): what an admin picks
 * the management interface from (the DCUI's F2 screen, the web UI's network form).
 * Ethernet-like interfaces only (ARPHRD 1), without loopback and without the bridges,
 * bonds' slaves and VLAN devices the node makes itself (they are not physical NICs).
 *
 * @example
 * ```ts
 * await listInterfaces("/"); // [{ name: "eno1", link: "up", carrier: true, mac: "52:54:00:12:34:56", speedMbps: 1000 }]
 * ```
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

export const Interface = z.object({
  name: z.string(),
  /** The kernel's operstate: up, down, dormant, lowerlayerdown, unknown... */
  link: z.string(),
  /** Cable in / link partner seen (false when the interface is down). */
  carrier: z.boolean(),
  mac: z.string(),
  /** Negotiated speed, when the driver says (null when down or unknown). */
  speedMbps: z.number().nullable(),
});
export type Interface = z.infer<typeof Interface>;

const read = (p: string): Promise<string | null> => fs.readFile(p, "utf8").then((t) => t.trim(), () => null);
const exists = (p: string): Promise<boolean> => fs.access(p).then(() => true, () => false);

async function describe(dir: string, name: string): Promise<Interface | null> {
  const base = join(dir, name);
  const [type, operstate, carrier, mac, speed, isBridge, isVlan] = await Promise.all([
    read(join(base, "type")),
    read(join(base, "operstate")),
    read(join(base, "carrier")),
    read(join(base, "address")),
    read(join(base, "speed")),
    exists(join(base, "bridge")),
    // VLAN devices have no "device" link to hardware and name their parent in uevent as DEVTYPE=vlan.
    read(join(base, "uevent")).then((u) => /^DEVTYPE=vlan$/m.test(u ?? "")),
  ]);
  if (type !== "1" || name === "lo" || isBridge || isVlan) return null;
  const mbps = Number(speed);
  return {
    name,
    link: operstate || "unknown",
    carrier: carrier === "1",
    mac: mac ?? "",
    speedMbps: speed !== null && Number.isInteger(mbps) && mbps > 0 ? mbps : null,
  };
}

/** The interfaces under ROOT/sys/class/net, sorted by name (none when sysfs is absent). */
export async function listInterfaces(root: string): Promise<Interface[]> {
  const dir = join(root, "sys/class/net");
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const all = await Promise.all(names.map((n) => describe(dir, n)));
  return all.filter((n): n is Interface => n !== null).sort((a, b) => a.name.localeCompare(b.name));
}
