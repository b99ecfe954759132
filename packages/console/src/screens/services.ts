/**
 * @module screens/services
 * F5 Restart Services: the services qx-node manages, with their state; Enter restarts
 * the chosen one (`POST /api/v1/services/NAME/restart`) and shows the result.
 */
import type { App, Screen } from "../app.ts";
import { errorText } from "../node-api.ts";

interface Service {
  name: string;
  description: string;
  state: string;
  detail: string;
}

export function servicesScreen(app: App): Screen {
  let list: Service[] = [];
  let focus = 0;
  let message = "";
  let busy = false;

  async function load(): Promise<void> {
    try {
      const a = await app.api.call<Service[]>("GET", "/api/v1/services");
      if (a.status === 200) list = a.body.filter((s) => s.name !== "ssh");
      else message = `✗ ${errorText(a)}`;
    } catch (e) {
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    app.draw();
  }

  async function restart(s: Service): Promise<void> {
    busy = true;
    message = `Restarting ${s.name}...`;
    app.draw();
    app.log(`restart of ${s.name} requested from the console`);
    try {
      const a = await app.api.call<Service>("POST", `/api/v1/services/${s.name}/restart`);
      message = a.status === 200 ? `✓ ${s.name}: ${a.body.state}` : `✗ ${s.name}: ${errorText(a)}`;
    } catch (e) {
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    busy = false;
    await load();
  }

  return {
    enter() {
      message = "";
      void load();
    },
    view() {
      const body = ["", "   Choose a service and press Enter to restart it.", ""];
      for (const [i, s] of list.entries()) body.push(`   ${i === focus ? ">" : " "} ${s.name.padEnd(20)}${s.state.padEnd(15)}${s.description}`);
      if (list.length === 0) body.push("     (loading)");
      body.push("", `   ${message}`);
      return { title: "Restart Services", body, footer: ["[↑/↓] Choose   [Enter] Restart   [Esc] Back"] };
    },
    key(k) {
      if (k.name === "escape") return false;
      if (busy) return true;
      if (k.name === "up" || k.name === "backtab") focus = (focus + list.length - 1) % Math.max(1, list.length);
      else if (k.name === "down" || k.name === "tab") focus = (focus + 1) % Math.max(1, list.length);
      else if (k.name === "enter" && list[focus]) void restart(list[focus]!);
      return true;
    },
  };
}
