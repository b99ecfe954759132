/**
 * @module screens/join
 * F4 Join Cluster: control plane URL, join token (format checked as typed), optional
 * CA pin. Saved into node.yaml (`cluster_url`, `join_token`, `ca_pin`) by qx-node
 * (`PUT /api/v1/node/join`, which checks them against core's node.yaml schema; the
 * form checks the same schema as it is typed). The join protocol itself is a later
 * issue, and the screen says so.
 */
import type { App, Screen } from "../app.ts";
import { button, Form, text } from "../form.ts";
import { errorText } from "../node-api.ts";
import { optional, required } from "../validate.ts";

type ConfigRules = typeof import("../validate-config.ts");

interface JoinSettings {
  cluster_url: string | null;
  join_token: string | null;
  ca_pin: string | null;
}

/** The request body of `PUT /api/v1/node/join` (an empty CA pin removes it). */
export function joinBody(v: { url: string; token: string; pin: string }): Record<string, string> {
  return { cluster_url: v.url.trim(), join_token: v.token.trim(), ...(v.pin.trim() ? { ca_pin: v.pin.trim() } : {}) };
}

export function joinScreen(app: App): Screen {
  let rules: ConfigRules | null = null;
  let form = new Form([]);
  let message = "";

  function make(cur: Partial<JoinSettings>): Form {
    const { caPin, clusterUrl, joinToken } = rules!;
    return new Form([
      text("url", "Control plane URL", { value: cur.cluster_url ?? "", max: 52, validate: required(clusterUrl) }),
      text("token", "Join token", { value: cur.join_token ?? "", max: 52, validate: required(joinToken), secret: false }),
      text("pin", "CA pin (optional)", { value: cur.ca_pin ?? "", max: 71, validate: optional(caPin) }),
      button("save", "Save to node.yaml"),
    ]);
  }

  async function save(): Promise<void> {
    const errors = form.errors();
    const bad = Object.keys(errors);
    if (bad.length) {
      message = `✗ Not saved: fix the marked field(s): ${bad.join(", ")}`;
      return;
    }
    try {
      const a = await app.api.call("PUT", "/api/v1/node/join", joinBody({ url: form.value("url"), token: form.value("token"), pin: form.value("pin") }));
      if (a.status === 200) {
        app.log(`cluster join settings saved (url ${form.value("url")})`);
        message = "✓ Saved in node.yaml. Joining will start once the join protocol exists.";
      } else message = `✗ Not saved: ${errorText(a)}`;
    } catch (e) {
      message = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    app.draw();
  }

  return {
    async enter() {
      message = "";
      form = new Form([]);
      rules ??= await import("../validate-config.ts");
      const cur = await app.api.call<JoinSettings>("GET", "/api/v1/node/join").catch(() => null);
      if (cur && cur.status !== 200) message = `✗ ${errorText(cur)}`;
      form = make(cur?.status === 200 ? cur.body : {});
      app.draw();
    },
    view() {
      return {
        title: "Join Cluster",
        body: [
          "",
          "   NOTE: the cluster join protocol is pending (a later issue). These settings",
          "   are only stored in /quantix/node.yaml for now; the node does not join yet.",
          "",
          "   Token format: xxxx.xxxxxxxx (lowercase letters and digits).",
          "   CA pin: sha256:<64 hex digits> of the control plane's CA certificate.",
          "",
          ...form.lines(),
          "",
          `   ${message}`,
        ],
        footer: ["[Tab/↑/↓] Move   [Enter] Next / Press   [Esc] Back"],
      };
    },
    key(k) {
      if (k.name === "escape") return false;
      if (form.key(k)?.pressed === "save") void save();
      return true;
    },
  };
}
