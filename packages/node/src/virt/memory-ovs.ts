/**
 * @module virt/memory-ovs
 * {@link OvsBridges} over an in-memory switch, for API tests without ovsdb-server.
 * It applies the same plan ({@link planBridges}) the real one sends to ovs-vsctl.
 */
import type { OvsBridge } from "@quantix/core";
import { type OvsBridges, type OvsState, planBridges } from "./ovs-bridges.ts";

export function memoryOvs(): OvsBridges & { readonly bridges: Map<string, { datapath: string; managed: boolean; ports: Map<string, string> }>; readonly tags: Map<string, number> } {
  const bridges = new Map<string, { datapath: string; managed: boolean; ports: Map<string, string> }>();
  const tags = new Map<string, number>();
  const state = async (): Promise<OvsState> => ({
    bridges: [...bridges].map(([name, b]) => ({ name, datapath: b.datapath, managed: b.managed, ports: [...b.ports.keys()] })),
    uplinks: [...bridges].flatMap(([bridge, b]) => [...b.ports].filter(([, kind]) => kind === "uplink").map(([name]) => ({ name, bridge }))),
  });
  return {
    bridges,
    tags,
    state,
    async reconcile(want: readonly OvsBridge[]) {
      const ops = planBridges(want, await state());
      for (const op of ops) {
        const [a, b, c, d, ...rest] = op[0] === "--if-exists" ? op.slice(1) : op;
        if (a === "del-br" && b) bridges.delete(b);
        else if (a === "del-port" && b && c) bridges.get(b)?.ports.delete(c);
        else if (a === "add-br" && b) bridges.set(b, { datapath: "system", managed: false, ports: new Map() });
        else if (a === "add-port" && b && c) bridges.get(b)?.ports.set(c, "port");
        else if (a === "set" && b === "Bridge" && c) {
          const br = bridges.get(c);
          if (br) {
            br.datapath = (d ?? "").replace("datapath_type=", "");
            br.managed = rest.includes("external_ids:quantix=managed");
          }
        } else if (a === "set" && b === "Port" && c) {
          for (const br of bridges.values()) if (br.ports.has(c)) br.ports.set(c, "uplink");
        }
      }
      return ops;
    },
    async setPortTag(port, vlan) {
      if (vlan === null) tags.delete(port);
      else tags.set(port, vlan);
    },
    async portTag(port) {
      return tags.get(port) ?? null;
    },
  };
}
