#!/usr/bin/env node
/**
 * @module cli/qx-netconf
 * The management network (OpenRC service `quantix-network`):
 *
 *   qx-netconf apply           configure it from /quantix/network.yaml (fallbacks: last good copy, defaults)
 *   qx-netconf down            stop DHCP, flush and set the interface down
 *   qx-netconf show [--json]   what the kernel has now: interface, address, mode, gateway, DNS
 *   qx-netconf plan [--json]   the ip commands apply would run, without running them
 *
 * Exit 0 on success, 1 on failure (the message says what to fix).
 */
import { Command } from "commander";
import { conventions } from "@quantix/core/cli/conventions";
import { applyNetwork, defaultNetworkEnv, downNetwork, loadNetworkConfig, planNetwork, readInterfaces, showNetwork, type ShownNetwork } from "../services/network-apply.ts";

function printShown(s: ShownNetwork, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
    return;
  }
  const vlan = s.vlan !== null ? ` (VLAN ${s.vlan} on ${s.base})` : "";
  process.stdout.write(
    `interface: ${s.interface ?? "none"}${vlan}\nstate:     ${s.state ?? "unknown"}\nmode:      ${s.mode ?? "unknown"}\n` +
      `address:   ${s.address ?? "none"}\ngateway:   ${s.gateway ?? "none"}\ndns:       ${s.dns.join(" ") || "none"}\n`,
  );
}

const program = new Command("qx-netconf").description("configure the Quantix-OS management network").option("--root <dir>", "system root (tests)", "/");
const env = () => defaultNetworkEnv({ root: program.opts<{ root: string }>().root });

program
  .command("apply")
  .description("configure the management network from /quantix/network.yaml")
  .option("--json", "print the result as JSON")
  .action(async (o: { json?: boolean }) => printShown(await applyNetwork(env()), o.json === true));
program
  .command("down")
  .description("bring the management interface down")
  .action(async () => {
    const device = await downNetwork(env());
    process.stdout.write(device ? `${device} down\n` : "nothing applied\n");
  });
program
  .command("show")
  .description("print the management network as applied")
  .option("--json", "JSON output")
  .action(async (o: { json?: boolean }) => printShown(await showNetwork(env()), o.json === true));
program
  .command("plan")
  .description("print the ip commands apply would run")
  .option("--json", "JSON output")
  .action(async (o: { json?: boolean }) => {
    const e = env();
    const { config } = await loadNetworkConfig(e);
    const plan = planNetwork(config, await readInterfaces(e.sysRoot));
    if (o.json) process.stdout.write(`${JSON.stringify(plan, null, 2)}\n`);
    else process.stdout.write(`${plan.commands.map((c) => `ip ${c.join(" ")}`).join("\n")}\n${plan.dhcp ? `udhcpc on ${plan.dhcp.device}\n` : ""}`);
  });

conventions(program).parseAsync(process.argv).catch((e: unknown) => {
  process.stderr.write(`qx-netconf: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
