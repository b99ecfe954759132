/**
 * The real qx-console DCUI in tmux (80×25) against a real qx-node started on a
 * temporary root: first-boot password, every F-key screen (Linux console and xterm
 * sequences), a bad address refused in the network form, a wrong emergency password
 * refused and the right one opening a shell, logs, join settings saved in node.yaml.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { makeRoot, removeRoot } from "@quantix/node/test-support";

const REPO = resolve(import.meta.dirname, "../../..");
const TMUX = `qx-console-test-${process.pid}`;

function tmux(...args: string[]): string {
  return execFileSync("tmux", ["-L", TMUX, ...args], { encoding: "utf8" });
}
const screen = (): string => tmux("capture-pane", "-p");
/** Keys by tmux name (tmux sends xterm sequences: F1-F4 `ESC O P`.., F5+ `ESC [ 15 ~`..). */
const keys = (...k: string[]): void => void tmux("send-keys", ...k);
const type = (text: string): void => void tmux("send-keys", "-l", text);
/** Raw bytes, e.g. the Linux console's F2 `ESC [ [ B`. */
const raw = (seq: string): void => void tmux("send-keys", "-H", ...[...Buffer.from(seq, "latin1")].map((b) => b.toString(16).padStart(2, "0")));

async function waitFor(what: RegExp, timeoutMs = 20_000): Promise<string> {
  const end = Date.now() + timeoutMs;
  let text = "";
  while (Date.now() < end) {
    text = screen();
    if (what.test(text)) return text;
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`screen never showed ${what}; it shows:\n${text}`);
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (typeof a === "object" && a ? res(a.port) : rej(new Error("no port"))));
    });
  });
}

function assertFrame(text: string): void {
  const rows = text.replace(/\n$/, "").split("\n");
  assert.equal(rows.length, 25, text);
  for (const r of rows) assert.equal([...r].length, 80, `not 80 columns: ${JSON.stringify(r)}`);
  assert.match(rows[0]!, /^╔═+╗$/);
  assert.match(rows[24]!, /^╚═+╝$/);
}

describe("qx-console DCUI in tmux against a real qx-node", { timeout: 180_000 }, () => {
  let root = "";
  let node: ChildProcess | undefined;
  let errLog = "";
  let socket = "";

  before(async () => {
    try {
      execFileSync("tmux", ["-V"]);
    } catch {
      assert.fail("tmux is missing (builder/host-packages.conf lists it: make deps)");
    }
    root = await makeRoot({
      "sys/class/net/eth0/type": "1\n",
      "sys/class/net/eth0/operstate": "up\n",
      "sys/class/net/eth0/address": "52:54:00:12:34:56\n",
      "sys/class/net/eth0/carrier": "1\n",
      "sys/class/net/eth0/speed": "1000\n",
      "sys/class/net/eth1/type": "1\n",
      "sys/class/net/eth1/operstate": "down\n",
      "sys/class/net/eth1/address": "52:54:00:12:34:57\n",
      "sys/class/net/lo/type": "772\n",
      "var/log/quantix/qx-node.log": `${Array.from({ length: 60 }, (_, i) => `test log line ${i + 1}`).join("\n")}\n`,
    });
    socket = join(root, "run/quantix/qx-node.sock");
    const port = await freePort();
    node = spawn(process.execPath, ["--import", "tsx", "packages/node/src/main.ts", "serve", "--root", root, "--port", String(port), "--socket", socket], {
      cwd: REPO,
      stdio: "ignore",
    });
    for (let i = 0; i < 200 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 150));
    assert.ok(existsSync(socket), "qx-node did not open its socket");
    const dir = await mkdtemp(join(tmpdir(), "qx-console-test-"));
    errLog = join(dir, "qx-console.log");
    const conf = join(dir, "tmux.conf");
    await writeFile(conf, "set -g status off\n");
    const cmd = [process.execPath, "--import", "tsx", "packages/console/src/main.ts", "--socket", socket, "--interval", "2", "--shell", "/bin/sh", "--shell-minutes", "1"]
      .map((a) => `'${a}'`)
      .join(" ");
    tmux("-f", conf, "new-session", "-d", "-x", "80", "-y", "25", "-c", REPO, `${cmd} 2>'${errLog}'; sleep 60`);
  });

  after(async () => {
    try {
      tmux("kill-server");
    } catch {
      // already gone
    }
    // Wait for qx-node to have stopped: it still writes into the root while it closes.
    if (node && node.exitCode === null && node.signalCode === null) {
      const exited = new Promise((r) => node?.once("exit", r));
      node.kill();
      await exited;
    }
    if (root) await removeRoot(root);
  });

  it("first boot: asks for the admin password, refuses a short one, sets a good one", async () => {
    assertFrame(await waitFor(/Admin Password[\s\S]*First boot: choose the admin password/));
    type("short");
    await waitFor(/✗ at least 10 characters/);
    keys("Tab");
    keys("Tab", "Tab", "Enter");
    await waitFor(/✗ at least 10 characters/);
    keys("Up", "Up", "Up");
    type("er-password-1");
    keys("Enter");
    type("shorter-password-1");
    // Past "Revoke API tokens" (left at no) to the button.
    keys("Enter", "Enter", "Enter");
    await waitFor(/✓ Password set\. \d+ web session\(s\) ended; API tokens still valid/);
  });

  it("main screen: version, node, status, IP and mode, URL, fingerprint, slot", async () => {
    keys("Escape");
    const text = await waitFor(/QUANTIX-OS v1\.2\.3/);
    assertFrame(text);
    assert.match(text, /Node: {5}quantix-01/);
    assert.match(text, /Status: {3}Not Configured/);
    assert.match(text, /IP: {7}\S+ \(DHCP, /);
    assert.match(text, /Management URL: https:\/\/\S+:\d+/);
    assert.match(text, /([0-9A-F]{2}:){15}[0-9A-F]{2}/);
    assert.match(text, /Slot: {5}B \(booted\)/);
    assert.match(text, /\[F2\] Configure Network/);
    assert.match(text, /\[F12\] Emergency Shell/);
  });

  it("every F-key screen renders, from Linux console and xterm sequences", async () => {
    const screens: [string, () => void, RegExp][] = [
      ["F2 (linux)", () => raw("\x1b[[B"), /Configure Network[\s\S]*eth0 +link up 1000 Mb\/s +52:54:00:12:34:56[\s\S]*eth1 +link down/],
      ["F3 (xterm)", () => keys("F3"), /View Logs[\s\S]*test log line 60/],
      ["F4 (linux)", () => raw("\x1b[[D"), /Join Cluster[\s\S]*join protocol is pending/],
      ["F5 (linux)", () => raw("\x1b[[E"), /Restart Services[\s\S]*libvirtd/],
      ["F10 (linux)", () => raw("\x1b[21~"), /Shutdown \/ Restart[\s\S]*Restart the node/],
      ["F12 (xterm)", () => keys("F12"), /Emergency Shell[\s\S]*Type the admin password/],
      ["F1 (xterm)", () => keys("F1"), /Admin Password/],
      ["F2 (xterm)", () => keys("F2"), /Configure Network/],
      ["F3 (linux)", () => raw("\x1b[[C"), /View Logs/],
      ["F4 (xterm)", () => keys("F4"), /Join Cluster/],
      ["F5 (xterm)", () => keys("F5"), /Restart Services/],
      ["F10 (xterm)", () => keys("F10"), /Shutdown \/ Restart/],
      ["F12 (linux)", () => raw("\x1b[24~"), /Emergency Shell/],
      ["F1 (linux)", () => raw("\x1b[[A"), /Admin Password/],
    ];
    for (const [what, press, expect] of screens) {
      keys("Escape");
      await waitFor(/QUANTIX-OS v1\.2\.3/);
      press();
      const text = await waitFor(expect).catch((e: Error) => assert.fail(`${what}: ${e.message}`));
      assertFrame(text);
    }
    keys("Escape");
    await waitFor(/QUANTIX-OS v1\.2\.3/);
  });

  it("F2: a bad IP address is rejected in the form and nothing is applied", async () => {
    const before = readFileSync(join(root, "quantix/network.yaml"), "utf8");
    keys("F2");
    await waitFor(/> Interface:/);
    keys("Tab", "Right"); // mode: static
    await waitFor(/\(•\) static[\s\S]*Address \(CIDR\)/);
    keys("Tab");
    type("10.0.0.300/24");
    await waitFor(/\[10\.0\.0\.300\/24_\]\s*║\n║ +✗ expected an IPv4 address in CIDR form/);
    keys("Tab");
    type("10.0.1.1");
    keys("Tab", "Tab", "Tab"); // gateway → vlan → dns → apply
    await waitFor(/> \[ Apply \(on trial\) \]/);
    keys("Enter");
    await waitFor(/✗ Not applied: fix the marked field\(s\): address/);
    // a good address makes the gateway outside its subnet: also refused
    keys("Up", "Up", "Up", "Up");
    for (let i = 0; i < 13; i++) keys("BSpace");
    type("10.0.0.5/24");
    await waitFor(/✗ outside 10\.0\.0\.5\/24/);
    assert.equal(readFileSync(join(root, "quantix/network.yaml"), "utf8"), before);
    assert.doesNotMatch(screen(), /On trial/);
    keys("Escape");
    await waitFor(/QUANTIX-OS v1\.2\.3/);
  });

  it("F12: a wrong emergency password is refused and logged; the right one opens a shell", async () => {
    keys("F12");
    await waitFor(/Type the admin password/);
    type("not-the-password");
    keys("Enter", "Enter");
    const text = await waitFor(/✗ Wrong password/);
    assert.doesNotMatch(text, /Unlocked|Open a root shell/);
    assert.match(readFileSync(errLog, "utf8"), /emergency shell: wrong password refused/);
    type("shorter-password-1");
    keys("Enter", "Enter");
    await waitFor(/Unlocked[\s\S]*> \[ Open a root shell \]/);
    keys("Enter");
    // Type only once the shell has the terminal (keys sent before that go to the DCUI).
    await waitFor(/^# ?$/m);
    type("echo shell-$QX_EMERGENCY_SHELL-open");
    keys("Enter");
    await waitFor(/shell-1-open/);
    type("exit");
    keys("Enter");
    await waitFor(/Emergency Shell[\s\S]*The shell has ended/);
    const log = readFileSync(errLog, "utf8");
    assert.match(log, /emergency shell: unlocked/);
    assert.match(log, /emergency shell: started \(limit 1 min\)/);
    assert.match(log, /emergency shell: ended \(exit 0\)/);
    keys("Escape");
  });

  it("F3: logs scroll and follow new lines", async () => {
    keys("F3");
    await waitFor(/test log line 60[\s\S]*lines 44-60 of 60/);
    keys("PageUp");
    await waitFor(/lines 27-43 of 60/);
    keys("Home");
    await waitFor(/test log line 1 [\s\S]*lines 1-17 of 60/);
    type("f");
    await waitFor(/FOLLOWING/);
    // "FOLLOWING" shows when the request is sent; the server tails from where the file
    // ends when it gets it. Append until a line shows (a loaded machine widens that gap).
    let seen = false;
    for (let i = 0; i < 8 && !seen; i++) {
      await writeFile(join(root, "var/log/quantix/qx-node.log"), `a line written while following (${i})\n`, { flag: "a" });
      seen = await waitFor(/a line written while following/, 2_000).then(
        () => true,
        () => false,
      );
    }
    assert.ok(seen, `no appended line shown while following:\n${screen()}`);
    keys("Escape");
  });

  it("F4: a bad join token is refused; good settings land in node.yaml", async () => {
    keys("F4");
    await waitFor(/> Control plane URL/);
    type("https://cp.example.com:6443");
    keys("Tab");
    type("abcd.BAD");
    await waitFor(/✗ expected a join token/);
    keys("Tab", "Tab", "Enter");
    await waitFor(/✗ Not saved/);
    assert.doesNotMatch(readFileSync(join(root, "quantix/node.yaml"), "utf8"), /join_token/);
    keys("Up", "Up", "BSpace", "BSpace", "BSpace");
    type("efghijk");
    keys("Tab", "Tab", "Enter");
    await waitFor(/✓ Saved in node\.yaml/);
    const yaml = readFileSync(join(root, "quantix/node.yaml"), "utf8");
    assert.match(yaml, /cluster_url: https:\/\/cp\.example\.com:6443/);
    assert.match(yaml, /join_token: abcd\.efghijk/);
    assert.match(yaml, /hostname: "quantix-01"/);
    keys("Escape");
  });

  it("F10 asks for confirmation and Esc cancels it", async () => {
    keys("F10");
    await waitFor(/> Restart the node/);
    keys("Down", "Enter");
    await waitFor(/Shut down the node \(quantix-01\)\? Press \[F11\] to confirm/);
    keys("Escape");
    const text = await waitFor(/\[↑\/↓\] Choose/);
    assert.doesNotMatch(text, /Press \[F11\]/);
    keys("Escape");
    await waitFor(/QUANTIX-OS v1\.2\.3/);
  });
});
