/**
 * @module screens/shell
 * F12 Emergency Shell: locked until the admin password is given, checked by qx-node
 * (`POST /api/v1/auth/login` over the socket: its rate limit applies, and the session
 * it returns is ended at once). Unlocked, it offers a time-limited root shell on this
 * terminal and the SSH switch. Every attempt, success and shell exit is logged.
 */
import type { App, Screen } from "../app.ts";
import { button, Form, text } from "../form.ts";
import { errorText } from "../node-api.ts";

interface Ssh {
  state: string;
  enabled: boolean | null;
  installed: boolean;
}

export function shellScreen(app: App): Screen {
  let form = lockForm();
  let unlocked = false;
  let message = "";
  let ssh: Ssh | null = null;
  let busy = false;

  function lockForm(): Form {
    return new Form([text("password", "Admin password", { secret: true, max: 256 }), button("unlock", "Unlock")]);
  }
  function actions(): Form {
    return new Form([button("shell", "Open a root shell"), button("ssh", ssh?.enabled ? "Disable SSH" : "Enable SSH")]);
  }

  async function unlock(): Promise<void> {
    const password = form.value("password");
    form = lockForm();
    if (!password) {
      message = "✗ Type the admin password.";
      return;
    }
    busy = true;
    message = "Checking...";
    app.draw();
    try {
      const a = await app.api.call<{ token?: string }>("POST", "/api/v1/auth/login", { username: "admin", password });
      if (a.status === 200 && a.body.token) {
        await app.api.call("DELETE", "/api/v1/auth/session", undefined, { authorization: `Bearer ${a.body.token}` }).catch(() => null);
        app.log("emergency shell: unlocked with the admin password");
        unlocked = true;
        message = "";
        const s = await app.api.call<Ssh>("GET", "/api/v1/services/ssh").catch(() => null);
        ssh = s?.status === 200 ? s.body : null;
        form = actions();
      } else {
        app.log(`emergency shell: wrong password refused (HTTP ${a.status})`);
        message = a.status === 401 ? "✗ Wrong password. The attempt is logged." : `✗ Refused: ${errorText(a)}`;
      }
    } catch (e) {
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    busy = false;
    app.draw();
  }

  async function openShell(): Promise<void> {
    const minutes = app.o.shellMinutes ?? 15;
    app.log(`emergency shell: started (limit ${minutes} min)`);
    const r = await app.shell();
    app.log(`emergency shell: ended (${r.timedOut ? "time limit reached" : `exit ${r.code}`})`);
    message = r.timedOut ? `The shell was ended after ${minutes} minutes.` : "The shell has ended.";
    unlocked = false;
    form = lockForm();
    app.draw();
  }

  async function toggleSsh(): Promise<void> {
    const enabled = !ssh?.enabled;
    const a = await app.api.call<Ssh>("PUT", "/api/v1/services/ssh", { enabled }).catch((e: Error) => ({ status: 0, body: { message: e.message } }));
    if (a.status === 200) {
      ssh = a.body as Ssh;
      app.log(`SSH ${enabled ? "enabled" : "disabled"} from the console`);
      message = `✓ SSH ${enabled ? "enabled" : "disabled"}.`;
      form = actions();
    } else message = `✗ ${errorText(a as { status: number; body: unknown })}`;
    app.draw();
  }

  return {
    enter() {
      unlocked = false;
      busy = false;
      message = "";
      form = lockForm();
    },
    leave() {
      unlocked = false;
    },
    view() {
      const minutes = app.o.shellMinutes ?? 15;
      const body = [
        "",
        "   The emergency shell is a root shell on this console, for recovery only.",
        `   It ends by itself after ${minutes} minutes. Every use is logged.`,
        "",
        unlocked ? "   Unlocked." : "   Type the admin password to unlock it.",
        "",
        ...form.lines(),
        "",
      ];
      if (unlocked && ssh) body.push(`   SSH: ${ssh.installed ? (ssh.enabled ? "enabled" : "disabled") : "not in this image"} (${ssh.state})`);
      if (message) body.push(`   ${message}`);
      return { title: "Emergency Shell", body, footer: ["[Tab/↑/↓] Move   [Enter] Next / Press   [Esc] Back"] };
    },
    key(k) {
      if (k.name === "escape") return false;
      if (busy) return true;
      const ev = form.key(k);
      if (ev?.pressed === "unlock") void unlock();
      else if (ev?.pressed === "shell" && unlocked) void openShell();
      else if (ev?.pressed === "ssh" && unlocked) void toggleSsh();
      return true;
    },
  };
}
