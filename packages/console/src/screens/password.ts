/**
 * @module screens/password
 * Set the admin password (F1; shown by itself at first boot): new password twice,
 * then `POST /api/v1/auth/admin-password` on qx-node's socket (the only place that
 * route exists). Every web session and every login back-off ends; API tokens are
 * separate credentials and stay unless "Revoke API tokens" is set to yes (the choice
 * after a suspected compromise). Esc leaves it unchanged.
 */
import type { App, Screen } from "../app.ts";
import { button, choice, Form, text } from "../form.ts";
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
      choice("revoke", "Revoke API tokens", ["no", "yes"]),
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
      const revokeTokens = form.value("revoke") === "yes";
      const a = await app.api.call<{ sessionsEnded: number; tokensRevoked: number }>("POST", "/api/v1/auth/admin-password", {
        password: (form.get("password") as { value: string }).value,
        revokeTokens,
      });
      if (a.status === 200) {
        app.log(`admin password set from the console${revokeTokens ? "; every API token revoked" : ""}`);
        form = make();
        const tokens = revokeTokens ? `${a.body.tokensRevoked} API token(s) revoked` : "API tokens still valid";
        message = `✓ Password set. ${a.body.sessionsEnded} web session(s) ended; ${tokens}. [Esc] Back`;
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
          "   emergency shell (F12). At least 10 characters. Setting it ends every web",
          "   session; API tokens keep working unless you revoke them here.",
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
