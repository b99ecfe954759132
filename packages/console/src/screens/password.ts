/**
 * @module screens/password
 * Set the admin password (F1; shown by itself at first boot): new password twice,
 * then `POST /api/v1/auth/admin-password` on qx-node's socket (the only place that
 * route exists). Esc leaves it unchanged.
 */
import type { App, Screen } from "../app.ts";
import { button, Form, text } from "../form.ts";
import { errorText } from "../node-api.ts";
import { password } from "../validate.ts";

export function passwordScreen(app: App): Screen {
  let form = make();
  let message = "";
  let busy = false;

  function make(): Form {
    const f: Form = new Form([
      text("password", "New admin password", { secret: true, max: 256, validate: password }),
      text("again", "Repeat it", { secret: true, max: 256, validate: (t) => (t === f.value("password") ? null : "the two entries differ") }),
      button("save", "Set password"),
    ]);
    return f;
  }

  async function save(): Promise<void> {
    const errors = form.errors();
    if (form.value("password") === "") errors.password = "required";
    if (Object.keys(errors).length) {
      message = `✗ ${Object.values(errors)[0]}`;
      return;
    }
    busy = true;
    message = "Setting the password...";
    app.draw();
    try {
      const a = await app.api.call("POST", "/api/v1/auth/admin-password", { password: (form.get("password") as { value: string }).value });
      if (a.status === 200) {
        app.log("admin password set from the console");
        form = make();
        message = "✓ Password set. Every web session has ended. [Esc] Back";
      } else message = `✗ ${errorText(a)}`;
    } catch (e) {
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    busy = false;
    app.draw();
  }

  return {
    enter() {
      form = make();
      message = app.state.summary && !app.state.summary.configured ? "First boot: choose the admin password for the web UI and the API." : "";
    },
    view() {
      return {
        title: "Admin Password",
        body: [
          "",
          "   The admin password logs in to the web UI and the API, and unlocks the",
          "   emergency shell (F12). At least 10 characters.",
          "",
          ...form.lines(),
          "",
          `   ${message}`,
        ],
        footer: ["[Tab/↑/↓] Move   [Enter] Next / Press   [Esc] Back"],
      };
    },
    key(k) {
      if (busy || k.name === "escape") return false;
      const ev = form.key(k);
      if (ev?.pressed === "save") void save();
      return true;
    },
  };
}
