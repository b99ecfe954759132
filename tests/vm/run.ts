/**
 * `make run`: boots the disk image in QEMU with the serial console on this terminal
 * and the web port forwarded to https://localhost:8443 (or the next free port).
 * Quit with Ctrl-A X.
 */
import { parseArgs } from "node:util";
import { freePort, Vm } from "./lib/qemu.ts";

const { values } = parseArgs({ options: { disk: { type: "string" }, bios: { type: "boolean" }, port: { type: "string" } } });
if (!values.disk) {
  process.stderr.write("usage: run.ts --disk IMAGE [--bios] [--port N]\n");
  process.exit(2);
}
async function pickPort(): Promise<number> {
  if (values.port) return Number(values.port);
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", async () => resolve(await freePort()));
    s.listen(8443, "127.0.0.1", () => s.close(() => resolve(8443)));
  });
}
const port = await pickPort();
process.stdout.write(`Quantix-OS: web UI and API on https://localhost:${port} (serial console below; Ctrl-A X quits)\n`);
const vm = await Vm.start({ name: "run", disk: values.disk, interactive: true, hostPort: port, firmware: values.bios ? "bios" : "uefi", watchdog: true });
process.stdout.write(`accelerator: ${vm.accel}; run directory ${vm.runDir}\n`);
await new Promise<void>((resolve) => {
  const check = setInterval(async () => {
    try {
      await vm.api.get("/api/v1/health");
    } catch {
      /* not up yet */
    }
  }, 60_000);
  process.on("SIGINT", () => {
    clearInterval(check);
    resolve();
  });
  (vm as unknown as { exited: Promise<unknown> }).exited.then(() => {
    clearInterval(check);
    resolve();
  });
});
await vm.stop().catch(() => undefined);
vm.cleanup();
