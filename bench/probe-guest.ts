/**
 * bench/probe-guest: boots a disk image (a copy: the image is left as it is), waits for
 * GET /api/v1/health, then runs each command given through the guest agent and prints
 * its output. For looking at a booted node while working on boot and platform figures.
 *   npx tsx bench/probe-guest.ts --disk output/quantix-os-V.img -- 'cmd 1' 'cmd 2' REBOOT 'cmd 3'
 * A REBOOT among the commands restarts the VM (same disk) and waits for health again.
 */
import { parseArgs } from "node:util";
import { Vm } from "../tests/vm/lib/qemu.ts";

const { values, positionals } = parseArgs({ options: { disk: { type: "string" } }, allowPositionals: true });
if (!values.disk || positionals.length === 0) {
  console.error("usage: probe-guest.ts --disk IMG -- COMMAND... [REBOOT COMMAND...]");
  process.exit(2);
}
const vm = await Vm.start({ name: "probe", disk: values.disk, watchdog: true });
try {
  const t0 = performance.now();
  await vm.waitHealth(900_000);
  console.log(`healthy after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await vm.agent.waitReady(120_000);
  for (const cmd of positionals) {
    if (cmd === "REBOOT") {
      vm.agent.close();
      await vm.restart(900_000);
      const t1 = performance.now();
      await vm.waitHealth(900_000);
      console.log(`healthy again ${((performance.now() - t1) / 1000).toFixed(1)} s after the restart returned`);
      await vm.agent.waitReady(120_000);
      continue;
    }
    const r = await vm.agent.sh(cmd, 120_000);
    console.log(`$ ${cmd.length > 300 ? `${cmd.slice(0, 300)}…` : cmd}   (exit ${r.exitCode})\n${r.stdout}${r.stderr ? `stderr: ${r.stderr}` : ""}`);
  }
} finally {
  await vm.stop();
  vm.cleanup();
}
