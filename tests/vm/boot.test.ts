/**
 * VM tier, boot chain (one VM, two boots shared by the three scenarios):
 *  1. boot to healthy: GRUB → initramfs → OpenRC → qx-node answers 200 on :8443;
 *  2. stateless root: a file written to / is gone after a reboot, files in /quantix
 *     and /data persist;
 *  3. /quantix/node.yaml broken by hand → the node still boots and health names the
 *     config error.
 */
import assert from "node:assert/strict";
import { after, before, describe } from "node:test";
import { Vm } from "./lib/qemu.ts";
import { trackedSteps } from "./lib/steps.ts";

const DISK = process.env.QX_DISK;
const BOOT_TIMEOUT = 360_000;

describe("boot chain (VM)", { timeout: 30 * 60_000 }, () => {
  let vm: Vm;
  const steps = trackedSteps();
  const step = steps.step;
  before(async () => {
    assert.ok(DISK, "QX_DISK must name the disk image (make vm-test sets it)");
    vm = await Vm.start({ name: "boot", disk: DISK, watchdog: true });
    process.stdout.write(`# VM run dir ${vm.runDir} (accel ${vm.accel})\n`);
  });
  after(async () => {
    await vm?.stop();
    if (steps.passed) vm?.cleanup();
    else process.stdout.write(`# VM logs kept: ${vm?.serialLog}\n`);
  });

  step("boots through GRUB and the initramfs to a healthy node", async () => {
    await vm.waitFor(/Quantix-OS: booting slot A/, 120_000);
    await vm.waitFor(/qx-init: .*switch/i, BOOT_TIMEOUT);
    const health = await vm.waitHealth(BOOT_TIMEOUT);
    assert.equal(health.status, "healthy");
    // Without a credential the API says the state and nothing more (no versions, slot or devices).
    assert.deepEqual(Object.keys(health).sort(), ["checkedAt", "failing", "status"]);
    await vm.agent.waitReady(60_000);
    // At most three Node.js processes started during the boot (qx-boot, qx-node, the
    // DCUI serving tty1 and ttyS0): each start costs seconds under emulation. Every tool
    // records its start in /run/quantix/node-starts (scripts/bundle.mjs); read it before
    // this test starts any tool itself.
    const starts = (await vm.agent.check("cat /run/quantix/node-starts")).trim().split("\n");
    process.stdout.write(`# Node.js processes started during the boot:\n${starts.map((l) => `#   ${l}`).join("\n")}\n`);
    assert.ok(starts.length <= 3, `${starts.length} Node.js processes started during the boot (at most 3):\n${starts.join("\n")}`);
    // The details, over qx-node's socket (root in the guest).
    const full = JSON.parse(await vm.agent.check("/usr/local/bin/qx-node health --json")) as { slot: string; components: Record<string, { ok: boolean }> };
    assert.equal(full.slot, "A");
    for (const c of ["libvirtd", "ovs", "data", "config", "slot", "version", "boot"]) assert.equal(full.components[c]?.ok, true, `${c} healthy`);
    // The management address is on the Open vSwitch bridge vmbr0 (the image default), the
    // port is on the bridge with no address of its own; this test reaches the API through it.
    const net = JSON.parse(await vm.agent.check("cat /run/quantix/network.json")) as { device: string; base: string; bridge: string | null; fallback?: string };
    assert.deepEqual([net.device, net.bridge, net.fallback], ["vmbr0", "vmbr0", undefined], JSON.stringify(net));
    assert.match(await vm.agent.check("ip -4 -o addr show dev vmbr0"), /inet 10\.0\.2\.15\//);
    assert.equal((await vm.agent.check(`ip -4 -o addr show dev ${net.base}`)).trim(), "", `no address on the port ${net.base}`);
    assert.match(await vm.agent.check("ovs-vsctl list-ports vmbr0"), new RegExp(`^${net.base}$`, "m"));
    // The API serves the certificate kept in /quantix/certificates.
    const fp = (await vm.agent.check("/usr/local/bin/qx-node fingerprint")).trim();
    assert.equal(fp.replace(/^.*?([0-9A-F:]{95}).*$/is, "$1").toUpperCase(), vm.api.pin);
    // TTY1 shows the banner (node, status, management URL), no login prompt.
    const tty1 = await vm.agent.check("cat /dev/vcs1");
    assert.match(tty1, /QUANTIX-OS/i);
    assert.match(tty1, /https:\/\/[0-9.]+:8443/);
    assert.doesNotMatch(tty1, /login:/);
    // The serial console mirrors the boot log.
    assert.match(vm.serial(), /OpenRC/);
  });

  // Scenarios 2 and 3 share one reboot: the files are written and node.yaml and the
  // GRUB environment are broken before it; the checks of each follow it.
  let degraded: Record<string, unknown> | undefined;
  step("the root is stateless; /quantix and /data persist across a reboot", async () => {
    // A failed login is an event, kept on /quantix (services/events) across the reboot.
    const failed = await vm.api.request("POST", "/api/v1/auth/login", { username: "intruder", password: "not-the-password" }, {}, 60_000);
    assert.equal(failed.status, 401, failed.body);
    await vm.agent.check("echo gone > /root-marker && echo kept > /quantix/marker && echo kept > /data/marker && sync");
    assert.equal((await vm.agent.check("cat /root-marker")).trim(), "gone");
    await vm.agent.check("printf 'node_id: [broken\\n' > /quantix/node.yaml && sync");
    // Garble the first copy of the GRUB environment on the ESP: GRUB must use the second.
    await vm.agent.check(
      "head -c 1024 /dev/urandom > /tmp/junk && MTOOLS_SKIP_CHECK=1 mcopy -o -i /dev/disk/by-partlabel/QX_EFI /tmp/junk ::/grub/grubenv && sync",
    );
    await vm.agent.sh("reboot");
    vm.mark();
    await vm.waitFor(/Quantix-OS: booting slot A/, 180_000);
    // Degraded by the config alone once every other component is up.
    degraded = await vm.waitHealth(BOOT_TIMEOUT, 503, (h) => JSON.stringify(h.failing) === '["config"]');
    await vm.agent.waitReady(60_000);
    const r = await vm.agent.sh("cat /root-marker");
    assert.notEqual(r.exitCode, 0, "the file written to / is gone");
    assert.equal((await vm.agent.check("cat /quantix/marker")).trim(), "kept");
    assert.equal((await vm.agent.check("cat /data/marker")).trim(), "kept");
    assert.match(await vm.agent.check("cat /proc/mounts"), /^overlay \/ overlay /m);
    // The event log came back with qx-node: the failed login from before the reboot is served.
    await vm.agent.check(`printf '%s' 'vm-test-password-1' | /usr/local/bin/qx-node set-admin-password`, 60_000);
    const login = await vm.api.request("POST", "/api/v1/auth/login", { username: "admin", password: "vm-test-password-1" }, {}, 60_000);
    assert.equal(login.status, 200, login.body);
    const token = login.json<{ token: string }>().token;
    // A new node has a VM network on the management bridge: a VM's NIC needs nothing more.
    const nets = await vm.api.request("GET", "/api/v1/networks", undefined, { authorization: `Bearer ${token}` }, 60_000);
    assert.equal(nets.status, 200, nets.body);
    const listed = nets.json<{ networks: { name: string; bridge: string }[] }>().networks;
    assert.ok(listed.some((x) => x.name === "vm-network" && x.bridge === "vmbr0"), nets.body);
    // A VM made on the fresh node (as the web UI's wizard does by default) gets a NIC on vmbr0.
    const auth = { authorization: `Bearer ${token}` };
    const t0 = Date.now();
    const made = await vm.api.request("POST", "/api/v1/vms", { name: "first", memory_mib: 64, nics: [{ network: "vm-network" }], start: true }, auth, 180_000);
    assert.equal(made.status, 201, made.body);
    process.stdout.write(`# a VM created and started on vm-network in the node: ${Date.now() - t0} ms\n`);
    const got = await vm.api.request("GET", "/api/v1/vms/first", undefined, auth, 60_000);
    const port = got.json<{ nics: { port?: string }[] }>().nics[0]?.port ?? "";
    assert.ok(port, got.body);
    assert.equal((await vm.agent.check(`ovs-vsctl port-to-br ${port}`)).trim(), "vmbr0");
    assert.equal((await vm.api.request("DELETE", "/api/v1/vms/first?force=true", undefined, auth, 120_000)).status, 200);
    const ev = await vm.api.request("GET", "/api/v1/events?severity=warning", undefined, { authorization: `Bearer ${token}` }, 60_000);
    assert.equal(ev.status, 200, ev.body);
    const events = ev.json<{ events: { kind: string; message: string }[] }>().events;
    assert.ok(events.some((e) => e.kind === "auth.login-failed" && /intruder/.test(e.message)), ev.body);
  });

  step("a node.yaml broken by hand (and a garbled GRUB environment): still boots, health names the config error", async () => {
    assert.ok(degraded, "the reboot of the previous step reached health 503");
    assert.deepEqual(degraded.failing, ["config"]);
    const full = JSON.parse((await vm.agent.sh("/usr/local/bin/qx-node health --json")).stdout) as { components: Record<string, { ok: boolean; detail?: string }> };
    assert.match(full.components.config?.detail ?? "", /node\.yaml.*YAML syntax error/);
    // GRUB said which copy it used (the primary was garbled).
    assert.match(vm.serial(), /Quantix-OS: boot environment: backup copy/);
  });
});
