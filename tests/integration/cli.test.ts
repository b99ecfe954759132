/**
 * Every tool's command line follows cli/conventions (docs/cli.md): `--version` and
 * `--help` exit 0, a usage error prints what is wrong and where help is and exits 2,
 * on the top level and in subcommands. Run from the sources through tsx, as the
 * builder runs qx-layout.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";

const TOOLS: Record<string, { entry: string; sub?: string }> = {
  "qx-node": { entry: "packages/node/src/main.ts", sub: "serve" },
  "qx-console": { entry: "packages/console/src/main.ts" },
  "qx-firstboot": { entry: "packages/installer/src/cli/qx-firstboot.ts" },
  "qx-install": { entry: "packages/installer/src/cli/qx-install.ts", sub: "disks" },
  "qx-netconf": { entry: "packages/node/src/cli/qx-netconf.ts", sub: "apply" },
  "qx-datamount": { entry: "packages/node/src/cli/qx-datamount.ts" },
  "qx-boot": { entry: "packages/node/src/cli/qx-boot.ts" },
  "qx-update": { entry: "packages/update/src/cli/qx-update.ts", sub: "status" },
  "qx-layout": { entry: "packages/core/src/cli/qx-layout.ts", sub: "grub-cfg" },
};

function run(entry: string, args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", entry, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    p.on("error", reject);
    p.on("close", (code) => resolve({ code, out, err }));
  });
}

describe("command-line conventions of every tool", { concurrency: 2 }, () => {
  for (const [name, t] of Object.entries(TOOLS)) {
    it(`${name}: --version, --help, and a usage error that exits 2 with a pointer to --help`, async () => {
      const v = await run(t.entry, ["--version"]);
      assert.equal(v.code, 0, v.err);
      assert.match(v.out, new RegExp(`^${name} \\S+\\n$`));
      const h = await run(t.entry, ["--help"]);
      assert.equal(h.code, 0, h.err);
      assert.match(h.out, new RegExp(`^Usage: ${name} `));
      const bad = await run(t.entry, ["--no-such-option"]);
      assert.equal(bad.code, 2, `${name} --no-such-option exited ${bad.code}: ${bad.err}`);
      const lines = bad.err.trim().split("\n");
      assert.equal(lines.length, 2, bad.err);
      assert.match(lines[0]!, /^error: unknown option '--no-such-option'/);
      // A tool with a default subcommand (qx-datamount mount) points at that one's help.
      assert.match(lines[1]!, new RegExp(`^\\(see ${name}( [a-z-]+)? --help\\)$`));
      if (t.sub) {
        const sub = await run(t.entry, [t.sub, "--no-such-option"]);
        assert.equal(sub.code, 2, `${name} ${t.sub} --no-such-option exited ${sub.code}: ${sub.err}`);
        assert.match(sub.err.trim().split("\n").at(-1) ?? "", new RegExp(`^\\(see ${name} ${t.sub} --help\\)$`));
        const sh = await run(t.entry, [t.sub, "--help"]);
        assert.equal(sh.code, 0, sh.err);
        assert.match(sh.out, new RegExp(`^Usage: ${name} ${t.sub}`));
      }
    });
  }
});
