/**
 * @module interfaces
 * The node's network interfaces with their link state, read from sysfs
 * (`/sys/class/net/NAME/{operstate,address,type}`): what the F2 screen offers as the
 * management interface. Read-only, local; qx-node has no route for it yet.
 */
import { promises as fs } from "node:fs";
import { join } from "node:path";

export interface Nic {
  readonly name: string;
  /** `up`, `down`, `unknown`... as the kernel says. */
  readonly link: string;
  readonly mac: string;
}

const read = (p: string): Promise<string> => fs.readFile(p, "utf8").then((t) => t.trim(), () => "");

/** Ethernet-like interfaces (ARPHRD 1), not loopback, sorted by name. */
export async function listNics(root = "/"): Promise<Nic[]> {
  const dir = join(root, "sys/class/net");
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const nics = await Promise.all(
    names.map(async (name) => {
      const [type, link, mac] = await Promise.all([read(join(dir, name, "type")), read(join(dir, name, "operstate")), read(join(dir, name, "address"))]);
      return type === "1" && name !== "lo" ? { name, link: link || "unknown", mac } : null;
    }),
  );
  return nics.filter((n): n is Nic => n !== null).sort((a, b) => a.name.localeCompare(b.name));
}
