/**
 * @module screens/join
 * F4 Join Cluster: control plane URL, join token (format checked as typed), optional
 * CA pin. Saved into node.yaml (`cluster_url`, `join_token`, `ca_pin`) through core's
 * comment-keeping config store, since qx-node has no route for them yet. The join
 * protocol itself is a later issue, and the screen says so.
 */
import type { App, Screen } from "../app.ts";
import { button, Form, text } from "../form.ts";
import { optional, required } from "../validate.ts";

type ConfigRules = typeof import("../validate-config.ts");

/** core's config store, loaded on use (it brings the YAML library and zod). */
const configFiles = () => import("@quantix/core/config/files");

/** Writes the three settings into node.yaml (an empty CA pin removes it). */
export async function saveJoin(root: string, v: { url: string; token: string; pin: string }): Promise<void> {
  const { nodeConfigFile } = await configFiles();
  await nodeConfigFile(root).update((doc) => {
    doc.set(["cluster_url"], v.url);
    doc.set(["join_token"], v.token);
    if (v.pin) doc.set(["ca_pin"], v.pin);
    else doc.delete(["ca_pin"]);
  });
}

export function joinScreen(app: App): Screen {
  let rules: ConfigRules | null = null;
  let form = new Form([]);
  let message = "";

  function make(cur: { cluster_url?: string; join_token?: string; ca_pin?: string }): Form {
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
      await saveJoin(app.o.root, { url: form.value("url"), token: form.value("token"), pin: form.value("pin") });
      app.log(`cluster join settings saved (url ${form.value("url")})`);
      message = "✓ Saved in node.yaml. Joining will start once the join protocol exists.";
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
      const { nodeConfigFile } = await configFiles();
      const cur = await nodeConfigFile(app.o.root)
        .loadWithFallback()
        .then((r) => r.value ?? {})
        .catch(() => ({}));
      form = make(cur);
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
