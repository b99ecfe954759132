/**
 * @module ui/view
 * Draws the installer's state as 80×25 rows with the DCUI's renderer (`@quantix/console`
 * render: a box, a body, key hints), so the installer and the DCUI look alike and
 * both work on the Linux console and on a serial terminal.
 *
 * @example
 * ```ts
 * term.draw(view(state));
 * ```
 */
import { bodyRows, fit, frame } from "@quantix/console/render";
import { formatBytes } from "@quantix/core";
import type { DiskInfo } from "../engine/disks.ts";
import { confirmWord, diskStatus, type PhaseView, type State } from "./model.ts";

const BAR = 30;

export function progressBar(fraction: number, width = BAR): string {
  const n = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${"#".repeat(n)}${".".repeat(width - n)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
}

function diskFlags(d: DiskInfo, s: State): string {
  return diskStatus(d, s.mode, s.imageBytes).status;
}

function diskRow(d: DiskInfo, s: State, selected: boolean): string {
  const size = formatBytes(d.sizeBytes).padStart(10);
  const model = fit(d.model || (d.type === "loop" ? "loop device" : "-"), 22);
  return `${selected ? ">" : " "} ${fit(d.device, 14)}${size}  ${model} ${fit(diskFlags(d, s), 11)} ${fit(d.contents, 14)}`;
}

function phaseRow(p: PhaseView): string {
  const mark = p.status === "done" ? "[x]" : p.status === "running" ? "[>]" : "[ ]";
  const right =
    p.status === "done"
      ? `${((p.ms ?? 0) / 1000).toFixed(1)}s  ${p.detail ?? ""}`
      : p.status === "running" && p.fraction !== undefined
        ? `${progressBar(p.fraction)} ${p.step ?? ""}`
        : p.status === "running"
          ? "working..."
          : "";
  return ` ${mark} ${fit(p.name, 10)} ${right}`;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const w of text.split(/\s+/)) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out;
}

export function view(s: State): string[] {
  const title = `Quantix-OS ${s.version} installer`;
  const modeLine = ` Mode: ${s.mode === "install" ? "install (erases the disk)" : "upgrade (keeps /quantix and /data)"}   Data: ${s.data === "xfs" ? "XFS" : "LVM volume group"}`;
  const msg = s.message ? wrap(s.message, 74).map((l) => ` ${l}`) : [];
  switch (s.screen) {
    case "disks": {
      const body = [modeLine, "", "   Device            Size  Model                  State       Contents"];
      const room = bodyRows(2, true) - body.length - 1 - msg.length;
      const start = Math.max(0, Math.min(s.cursor - room + 1, s.disks.length - room));
      for (const [i, d] of s.disks.slice(start, start + room).entries()) body.push(diskRow(d, s, start + i === s.cursor));
      if (!s.disks.length) body.push("   (no disks found)");
      while (body.length < bodyRows(2, true) - msg.length) body.push("");
      body.push(...msg);
      return frame({
        title,
        subtitle: "Select the disk to install to",
        body,
        footer: ["[Up/Down] Select  [Enter] Continue  [U] Install/upgrade  [L] XFS/LVM", "[R] Rescan  [F10] Reboot  [F12] Shell"],
      });
    }
    case "confirm": {
      const d = s.disks[s.cursor]!;
      const what = s.mode === "install" ? "ALL DATA ON THIS DISK WILL BE ERASED." : "The system slots and boot files are rewritten; /quantix and /data are kept.";
      const body = [
        modeLine,
        "",
        `   Disk:     ${d.device}  ${formatBytes(d.sizeBytes)}  ${d.model}`,
        `   Contents: ${d.contents || "none found"}`,
        "",
        `   ${what}`,
        "",
        `   Type ${confirmWord(d)} and press Enter to continue:`,
        "",
        `   > ${s.typed}_`,
        "",
        ...msg,
      ];
      return frame({ title, subtitle: `Confirm: ${s.mode} on ${d.device}`, body, footer: ["[Enter] Confirm  [Esc] Back (nothing is written)"] });
    }
    case "installing":
    case "done":
    case "failed": {
      const d = s.disks[s.cursor];
      const body = [` Installing Quantix-OS ${s.version} on ${d?.device ?? "?"} (${s.mode}, data ${s.data})`, ""];
      body.push(...s.phases.map(phaseRow), "");
      if (s.screen === "done") body.push(` Installed in ${(s.totalMs / 1000).toFixed(1)} s. Remove the installation medium, then reboot.`);
      if (s.screen === "failed") body.push(" INSTALL FAILED:", ...wrap(s.error, 74).map((l) => ` ${l}`));
      body.push(...msg);
      const footer =
        s.screen === "done" ? ["[Enter] Reboot  [P] Power off"] : s.screen === "failed" ? ["[Esc] Back to the disk list  [F10] Reboot  [F12] Shell"] : ["Please wait..."];
      return frame({ title, subtitle: s.screen === "done" ? "Installation complete" : s.screen === "failed" ? "Installation failed" : "Installing", body, footer });
    }
  }
}
