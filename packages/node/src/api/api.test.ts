import assert from "node:assert/strict";
import { appendFile, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getLocal } from "../client.ts";
import { BODY_LIMIT } from "../server.ts";
import { startTestNode, type TestNode } from "./test-server.ts";

const NETWORK_WITH_COMMENTS = `# Management network of this node.
management:
  # the uplink to the admin VLAN
  interface: "eth0"
  mode: "dhcp" # DHCP until the static plan is ready
`;

/** Two NICs (one up at 1 Gb/s, one down), loopback, a bridge and a VLAN device. */
const SYSFS_NET: Record<string, string> = {};
for (const [name, files] of Object.entries({
  eno1: { type: "1", operstate: "up", carrier: "1", address: "52:54:00:12:34:56", speed: "1000", uevent: "INTERFACE=eno1\n" },
  eno2: { type: "1", operstate: "down", carrier: "0", address: "52:54:00:12:34:57", speed: "-1", uevent: "INTERFACE=eno2\n" },
  lo: { type: "772", operstate: "unknown", carrier: "1", address: "00:00:00:00:00:00" },
  br0: { type: "1", operstate: "up", carrier: "1", address: "52:54:00:aa:bb:cc", "bridge/stp_state": "0" },
  "eno1.20": { type: "1", operstate: "up", carrier: "1", address: "52:54:00:12:34:56", uevent: "DEVTYPE=vlan\nINTERFACE=eno1.20\n" },
})) {
  for (const [f, v] of Object.entries(files)) SYSFS_NET[`sys/class/net/${name}/${f}`] = `${v}\n`;
}

describe("qx-node API over HTTPS", () => {
  let n: TestNode;
  before(async () => {
    n = await startTestNode({ "quantix/network.yaml": NETWORK_WITH_COMMENTS, "var/log/quantix/qx-node.log": "one\ntwo\nthree\n", "dev/kmsg": "6,1,5140900,-;Linux version 6.12\n SUBSYSTEM=x\n4,2,6000000,-;eth0: link up\n", "etc/init.d/libvirtd": "#!/sbin/openrc-run\n", ...SYSFS_NET });
  });
  after(() => n.close());

  it("first start: a random admin password in a 0600 file, stored only as an scrypt hash", async () => {
    const file = join(n.root, "run/quantix/initial-admin-password");
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(n.password, /^[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){3}$/);
    const admin = await readFile(join(n.root, "quantix/auth/admin.json"), "utf8");
    assert.doesNotMatch(admin, new RegExp(n.password));
    assert.match(admin, /"hash": "scrypt\$/);
    assert.equal((await stat(join(n.root, "quantix/auth"))).mode & 0o777, 0o700);
  });

  it("login: wrong password 401, then 429 with Retry-After after 5 failures from one address", async () => {
    for (let i = 0; i < 5; i++) {
      const r = await n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: `wrong-${i}` } });
      assert.equal(r.status, 401);
    }
    const blocked = await n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: n.password } });
    assert.equal(blocked.status, 429);
    assert.ok(Number(blocked.headers["retry-after"]) > 0);
  });

  it("health needs no credential; node does; the certificate fingerprint is in GET /node", async () => {
    assert.equal((await n.call("GET", "/api/v1/health")).status, 200);
    assert.equal((await n.call("GET", "/api/v1/node")).status, 401);
    const r = await n.call("GET", "/api/v1/node", { token: n.reader });
    assert.equal(r.status, 200);
    assert.equal(r.json.hostname, "quantix-01");
    assert.equal(r.json.certificate.fingerprint, n.srv.certificate.fingerprint);
    assert.deepEqual(r.json.slot, { booted: "B", trying: false, live: false });
    assert.equal(r.headers["cache-control"], "no-store");
    assert.match(String(r.headers["strict-transport-security"]), /max-age/);
  });

  it("rename: 403 for a read token, 400 naming the field, then node.yaml and the running name change", async () => {
    assert.equal((await n.call("PUT", "/api/v1/node", { token: n.reader, body: { hostname: "lab-2" } })).status, 403);
    const bad = await n.call("PUT", "/api/v1/node", { token: n.admin, body: { hostname: "-Bad" } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.field, "body.hostname");
    const ok = await n.call("PUT", "/api/v1/node", { token: n.admin, body: { hostname: "lab-2" } });
    assert.equal(ok.status, 200, ok.text);
    assert.match(await readFile(join(n.root, "quantix/node.yaml"), "utf8"), /hostname: "?lab-2"?/);
    assert.equal(await readFile(join(n.root, "proc/sys/kernel/hostname"), "utf8"), "lab-2");
    assert.match(await readFile(join(n.root, "etc/hosts"), "utf8"), /127\.0\.1\.1\tlab-2/);
    assert.equal((await n.call("GET", "/api/v1/node", { token: n.reader })).json.hostname, "lab-2");
  });

  it("join settings: admin only, token format checked (400 with the field), stored in node.yaml with comments kept", async () => {
    const url = "https://control-plane.example.com:6443";
    assert.equal((await n.call("GET", "/api/v1/node/join", { token: n.reader })).status, 403);
    const empty = await n.call("GET", "/api/v1/node/join", { token: n.admin });
    assert.deepEqual(empty.json, { cluster_url: null, join_token: null, ca_pin: null, joined: false, protocol: "pending" });
    const badToken = await n.call("PUT", "/api/v1/node/join", { token: n.admin, body: { cluster_url: url, join_token: "ABCD-123" } });
    assert.equal(badToken.status, 400);
    assert.equal(badToken.json.field, "body.join_token");
    assert.match(badToken.json.message, /xxxx\.xxxxxxxx/);
    const badPin = await n.call("PUT", "/api/v1/node/join", { token: n.admin, body: { cluster_url: url, join_token: "abcd.0123456789", ca_pin: "md5:00" } });
    assert.equal(badPin.json.field, "body.ca_pin");
    const node = join(n.root, "quantix/node.yaml");
    await appendFile(node, "# kept: a comment by the admin\n");
    const pin = `sha256:${"ab".repeat(32)}`;
    const ok = await n.call("PUT", "/api/v1/node/join", { token: n.admin, body: { cluster_url: url, join_token: "abcd.0123456789", ca_pin: pin } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { cluster_url: url, join_token: "abcd.0123456789", ca_pin: pin, joined: false, protocol: "pending" });
    const text = await readFile(node, "utf8");
    assert.match(text, /# kept: a comment by the admin/);
    assert.match(text, /join_token: "?abcd\.0123456789"?/);
    // Without a pin the stored one goes.
    const noPin = await n.call("PUT", "/api/v1/node/join", { token: n.admin, body: { cluster_url: url, join_token: "abcd.0123456789" } });
    assert.equal(noPin.json.ca_pin, null);
    assert.doesNotMatch(await readFile(node, "utf8"), /ca_pin/);
  });

  it("interfaces: Ethernet NICs with link state from sysfs, without loopback, bridges and VLAN devices", async () => {
    const r = await n.call("GET", "/api/v1/network/interfaces", { token: n.reader });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.interfaces, [
      { name: "eno1", link: "up", carrier: true, mac: "52:54:00:12:34:56", speedMbps: 1000 },
      { name: "eno2", link: "down", carrier: false, mac: "52:54:00:12:34:57", speedMbps: null },
    ]);
    assert.equal((await n.call("GET", "/api/v1/network/interfaces")).status, 401);
  });

  it("API tokens: create (shown once), list without secrets, revoke → 401", async () => {
    const created = await n.call("POST", "/api/v1/auth/tokens", { token: n.admin, body: { name: "ci", scope: "admin" } });
    assert.equal(created.status, 201);
    assert.match(created.json.token, /^qxt_[0-9a-f]{16}_/);
    const list = await n.call("GET", "/api/v1/auth/tokens", { token: n.admin });
    assert.ok(list.json.some((t: { id: string }) => t.id === created.json.id));
    assert.doesNotMatch(list.text, /qxt_/);
    assert.doesNotMatch(await readFile(join(n.root, "quantix/auth/tokens.json"), "utf8"), new RegExp(created.json.token));
    assert.equal((await n.call("GET", "/api/v1/auth/whoami", { token: created.json.token })).json.scope, "admin");
    assert.equal((await n.call("DELETE", `/api/v1/auth/tokens/${created.json.id}`, { token: n.admin })).status, 200);
    assert.equal((await n.call("GET", "/api/v1/node", { token: created.json.token })).status, 401);
    assert.equal((await n.call("DELETE", `/api/v1/auth/tokens/${created.json.id}`, { token: n.admin })).status, 404);
  });

  it("services: rc-service status; ssh reported as not installed and cannot be enabled", async () => {
    const r = await n.call("GET", "/api/v1/services", { token: n.reader });
    const by = Object.fromEntries(r.json.map((s: { name: string }) => [s.name, s]));
    assert.equal(by.libvirtd.state, "started");
    assert.equal(by.ssh.state, "not-installed");
    assert.equal(by.ssh.enabled, false);
    const enable = await n.call("PUT", "/api/v1/services/ssh", { token: n.admin, body: { enabled: true } });
    assert.equal(enable.status, 409);
    assert.match(enable.json.message, /no SSH server/);
    const restart = await n.call("POST", "/api/v1/services/libvirtd/restart", { token: n.admin });
    assert.equal(restart.status, 200);
    assert.ok(n.runner.calls.includes("rc-service libvirtd restart"));
    assert.equal((await n.call("POST", "/api/v1/services/..%2Fetc/restart", { token: n.admin })).status, 400);
  });

  it("logs: recent lines of a file and of the kernel, a live follow over SSE, 404 for an unknown log", async () => {
    const file = await n.call("GET", "/api/v1/logs/qx-node?lines=2", { token: n.reader });
    assert.deepEqual(file.json.lines, ["two", "three"]);
    const kernel = await n.call("GET", "/api/v1/logs/kernel", { token: n.reader });
    assert.deepEqual(kernel.json.lines, ["[    5.140900] Linux version 6.12", "[    6.000000] eth0: link up"]);
    assert.equal((await n.call("GET", "/api/v1/logs/nope", { token: n.reader })).status, 404);

    const { request } = await import("node:https");
    const got = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: n.srv.port, path: "/api/v1/logs/qx-node/follow", ca: n.srv.certificate.certPem, servername: "localhost", headers: { authorization: `Bearer ${n.reader}` } },
        (res) => {
          assert.equal(res.headers["content-type"], "text/event-stream; charset=utf-8");
          let text = "";
          res.on("data", (d: Buffer) => {
            text += d.toString();
            if (text.includes("four")) {
              req.destroy();
              resolve(text);
            }
          });
          setTimeout(() => appendFile(join(n.root, "var/log/quantix/qx-node.log"), "four\n").catch(reject), 100);
        },
      );
      req.on("error", (e) => (e.message.includes("aborted") ? undefined : reject(e)));
      req.end();
    });
    assert.match(got, /data: \{"lines":\["four"\]\}/);
  });

  it("update: 501 with a clear message until qx-update is wired in; unauthenticated uploads are refused first", async () => {
    const s = await n.call("GET", "/api/v1/update", { token: n.reader });
    assert.equal(s.status, 501);
    assert.match(s.json.message, /qx-update/);
    const up = await n.call("PUT", "/api/v1/update/image", { token: n.admin, raw: Buffer.alloc(BODY_LIMIT * 2), headers: { "content-type": "application/octet-stream" } });
    assert.equal(up.status, 501, "the raw image is not held to the JSON body limit");
    const anon = await n.call("PUT", "/api/v1/update/image", { raw: Buffer.alloc(1024), headers: { "content-type": "application/octet-stream" } });
    assert.equal(anon.status, 401);
    const json = await n.call("PUT", "/api/v1/node", { token: n.admin, raw: "x".repeat(BODY_LIMIT + 1), headers: { "content-type": "application/octet-stream" } });
    assert.equal(json.status, 415, "octet-stream is accepted by the upload route only");
  });

  it("body limit: 413 over 64 KiB", async () => {
    const r = await n.call("PUT", "/api/v1/node", { token: n.admin, raw: JSON.stringify({ hostname: "x".repeat(BODY_LIMIT) }), headers: { "content-type": "application/json" } });
    assert.equal(r.status, 413);
  });

  it("power: the host name must be typed to confirm", async () => {
    const wrong = await n.call("POST", "/api/v1/power", { token: n.admin, body: { action: "reboot", confirm: "other-node" } });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.json.field, "body.confirm");
    const ok = await n.call("POST", "/api/v1/power", { token: n.admin, body: { action: "reboot", confirm: "lab-2" } });
    assert.equal(ok.status, 202, ok.text);
  });

  it("password change ends every session and removes the initial password file", async () => {
    const other = (await n.call("POST", "/api/v1/auth/login", { body: { username: "admin", password: n.password } })).json?.token as string | undefined;
    const r = await n.call("PUT", "/api/v1/auth/password", { token: n.admin, body: { current: n.password, password: "a-new-long-password" } });
    assert.equal(r.status, 200, r.text);
    assert.equal((await n.call("GET", "/api/v1/node", { token: n.admin })).status, 401);
    if (other) assert.equal((await n.call("GET", "/api/v1/node", { token: other })).status, 401);
    await assert.rejects(stat(join(n.root, "run/quantix/initial-admin-password")));
    assert.equal((await n.call("GET", "/api/v1/node", { token: n.reader })).status, 200, "API tokens survive");
  });

  it("the unix socket (root only) is trusted as admin", async () => {
    const r = await getLocal<{ kind: string; scope: string }>(n.srv.socketPath, "/api/v1/auth/whoami");
    assert.deepEqual(r.body, { kind: "local", scope: "admin", id: "root" });
  });
});

describe("network try-mode", () => {
  it("applies, keeps comments, and is confirmed from the new address", async () => {
    const n = await startTestNode({ "quantix/network.yaml": NETWORK_WITH_COMMENTS }, { networkTryMs: 5000 });
    try {
      const put = await n.call("PUT", "/api/v1/network", { token: n.admin, body: { interface: "eth0", mode: "static", address: "127.0.0.1/8", dns: ["192.0.2.53"] } });
      assert.equal(put.status, 202, put.text);
      const text = await readFile(join(n.root, "quantix/network.yaml"), "utf8");
      assert.match(text, /^# Management network of this node\./);
      assert.match(text, /# the uplink to the admin VLAN/);
      assert.match(text, /address: 127\.0\.0\.1\/8/);
      await waitFor(async () => (await n.call("GET", "/api/v1/network/trial", { token: n.reader })).json.state === "pending");
      const c = await n.call("POST", "/api/v1/network/confirm", { token: n.admin });
      assert.equal(c.status, 200, c.text);
      assert.equal(c.json.state, "confirmed");
      await assert.rejects(stat(join(n.root, "quantix/network-try.json")));
    } finally {
      await n.close();
    }
  });

  it("refuses a confirmation from another address, and reverts by itself at the deadline", async () => {
    const n = await startTestNode({ "quantix/network.yaml": NETWORK_WITH_COMMENTS }, { networkTryMs: 1500 });
    try {
      n.applier.address = "192.0.2.99/24";
      const put = await n.call("PUT", "/api/v1/network", { token: n.admin, body: { interface: "eth0", mode: "static", address: "192.0.2.99/24" } });
      assert.equal(put.status, 202);
      assert.equal((await n.call("PUT", "/api/v1/network", { token: n.admin, body: { mode: "dhcp" } })).status, 409, "one trial at a time");
      await waitFor(async () => (await n.call("GET", "/api/v1/network/trial", { token: n.reader })).json.state === "pending");
      const c = await n.call("POST", "/api/v1/network/confirm", { token: n.admin });
      assert.equal(c.status, 409);
      assert.match(c.json.message, /https:\/\/192\.0\.2\.99/);
      await waitFor(async () => (await n.call("GET", "/api/v1/network/trial", { token: n.reader })).json.state === "reverted", 5000);
      assert.equal(await readFile(join(n.root, "quantix/network.yaml"), "utf8"), NETWORK_WITH_COMMENTS, "byte for byte");
      assert.equal(n.applier.applied, 2, "applied, then re-applied the old settings");
    } finally {
      await n.close();
    }
  });

  it("a trial interrupted by a restart reverts when its deadline has passed", async () => {
    const saved = JSON.stringify({ previous: NETWORK_WITH_COMMENTS, requested: { mode: "static" }, deadline: Date.now() - 1000 });
    const n = await startTestNode({ "quantix/network.yaml": "management:\n  interface: eth9\n  mode: dhcp\n", "quantix/network-try.json": saved });
    try {
      assert.equal(await readFile(join(n.root, "quantix/network.yaml"), "utf8"), NETWORK_WITH_COMMENTS);
      assert.equal((await n.call("GET", "/api/v1/network/trial", { token: n.reader })).json.state, "reverted");
    } finally {
      await n.close();
    }
  });
});

async function waitFor(f: () => Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("condition not met in time");
}

describe("update routes over a backend", () => {
  it("streams the raw image to the backend with its size and signature; 400 for a bad signature header", async () => {
    const got: { bytes: number; size: number | null; sig: string | null }[] = [];
    const status = { booted: "A" as const, slots: [], progress: null, lastRollback: { at: "2026-01-01T00:00:00Z", reason: "health check failed: libvirtd" } };
    const n = await startTestNode({}, {
      update: {
        status: async () => status,
        install: async (image, info) => {
          let bytes = 0;
          for await (const c of image) bytes += (c as Buffer).length;
          got.push({ bytes, size: info.sizeBytes, sig: info.signature?.toString() ?? null });
          return status;
        },
        markGood: async () => status,
        rollback: async () => status,
      },
    });
    try {
      const image = Buffer.alloc(3 * 1024 * 1024, 7);
      const headers = { "content-type": "application/octet-stream", "x-qx-image-signature": Buffer.from("-----BEGIN PGP SIGNATURE-----").toString("base64") };
      const r = await n.call("PUT", "/api/v1/update/image", { token: n.admin, raw: image, headers });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(got, [{ bytes: image.length, size: image.length, sig: "-----BEGIN PGP SIGNATURE-----" }]);
      const bad = await n.call("PUT", "/api/v1/update/image", { token: n.admin, raw: "x", headers: { ...headers, "x-qx-image-signature": "not base64 <script>" } });
      assert.equal(bad.status, 400);
      assert.equal(bad.json.field, "headers.x-qx-image-signature");
      assert.equal((await n.call("GET", "/api/v1/update", { token: n.reader })).json.lastRollback.reason, "health check failed: libvirtd");
      assert.equal((await n.call("POST", "/api/v1/update/rollback", { token: n.admin, body: {} })).status, 400, "confirm: true required");
      assert.equal((await n.call("POST", "/api/v1/update/rollback", { token: n.admin, body: { confirm: true } })).status, 200);
    } finally {
      await n.close();
    }
  });
});
