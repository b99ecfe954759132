/**
 * @module screens/power
 * F10 Shutdown / Restart: pick the action, then confirm with F11 (as on ESXi); the
 * request carries the node's host name as qx-node's confirmation.
 */
import type { App, Screen } from "../app.ts";
import { errorText } from "../node-api.ts";

const ACTIONS = [
  { action: "reboot", label: "Restart the node" },
  { action: "shutdown", label: "Shut down the node" },
] as const;

export function powerScreen(app: App): Screen {
  let focus = 0;
  let confirming = false;
  let message = "";

  async function run(): Promise<void> {
    const a = ACTIONS[focus]!;
    const host = app.state.summary?.hostname;
    if (!host) {
      message = "✗ qx-node is not answering; cannot ask it to power off.";
      return;
    }
    app.log(`${a.action} confirmed on the console`);
    try {
      const r = await app.api.call("POST", "/api/v1/power", { action: a.action, confirm: host });
      message = r.status === 202 ? `✓ ${a.action === "reboot" ? "Restarting" : "Shutting down"}...` : `✗ ${errorText(r)}`;
    } catch (e) {
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    app.draw();
  }

  return {
    enter() {
      focus = 0;
      confirming = false;
      message = "";
    },
    view() {
      const body = ["", "   Every VM on this node stops with it.", ""];
      for (const [i, a] of ACTIONS.entries()) body.push(`   ${i === focus ? ">" : " "} ${a.label}`);
      body.push("");
      if (confirming) body.push(`   ${ACTIONS[focus]!.label} (${app.state.summary?.hostname ?? "?"})? Press [F11] to confirm, [Esc] to cancel.`);
      if (message) body.push(`   ${message}`);
      return { title: "Shutdown / Restart", body, footer: [confirming ? "[F11] Confirm   [Esc] Cancel" : "[↑/↓] Choose   [Enter] Select   [Esc] Back"] };
    },
    key(k) {
      if (confirming) {
        if (k.name === "f11") {
          confirming = false;
          void run();
        } else if (k.name === "escape") confirming = false;
        return true;
      }
      if (k.name === "up" || k.name === "down" || k.name === "tab") focus = 1 - focus;
      else if (k.name === "enter") confirming = true;
      else return false;
      return true;
    },
  };
}
