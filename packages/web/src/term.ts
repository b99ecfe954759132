/**
 * @module term
 * The serial console viewer of the web UI: xterm.js on the API's console WebSocket
 * (`/api/v1/vms/:name/console`, the VM's serial line as bytes both ways). Built into its
 * own script, `/term.js` with `/term.css`, which the VMs page loads only when a console
 * is opened; this module puts {@link QxTerm} on `window.qxTerm`.
 *
 * What it gives over a `<pre>`: a real terminal (escape sequences, colours, cursor
 * addressing, so installers and `top` draw right), 5000 lines of scrollback, copy by
 * selecting (and Ctrl+Shift+C), paste with Ctrl+Shift+V or the browser's paste, and a
 * size that follows the box. A serial line carries no window size, so after a resize the
 * guest is told nothing; `stty cols N rows M` in the guest matches it (the status line
 * shows the size).
 *
 * @example
 * ```ts
 * const t = window.qxTerm.open(div, "wss://node/api/v1/vms/web-1/console", ["qx-console", "qx-auth.TOKEN"], (s, text) => log(s, text));
 * t.dispose();
 * ```
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";

export type TermStatus = "connecting" | "connected" | "closed" | "error";

export interface TermSession {
  /** Closes the WebSocket and frees the terminal. */
  dispose(): void;
  focus(): void;
  /** Columns × rows now shown. */
  size(): { cols: number; rows: number };
  /** The text on screen and in the scrollback (for tests and "copy all"). */
  text(): string;
}

export interface QxTerm {
  open(target: HTMLElement, url: string, protocols: string[], on: (status: TermStatus, text: string) => void): TermSession;
}

function open(target: HTMLElement, url: string, protocols: string[], on: (status: TermStatus, text: string) => void): TermSession {
  const dark = matchMedia("(prefers-color-scheme: dark)").matches || document.documentElement.dataset["theme"] === "dark";
  const term = new Terminal({
    scrollback: 5000,
    convertEol: false,
    cursorBlink: true,
    fontFamily: "ui-monospace, 'DejaVu Sans Mono', monospace",
    fontSize: 14,
    theme: dark ? { background: "#111418", foreground: "#d8dee9" } : { background: "#ffffff", foreground: "#1d2127", cursor: "#1d2127", selectionBackground: "#b5d3ff" },
  });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(target);
  const refit = () => {
    try {
      fit.fit();
    } catch {
      // not laid out yet
    }
  };
  refit();
  const ro = new ResizeObserver(refit);
  ro.observe(target);

  const ws = new WebSocket(url, protocols);
  ws.binaryType = "arraybuffer";
  const enc = new TextEncoder();
  const send = (s: string) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(enc.encode(s));
  };
  on("connecting", "connecting…");
  ws.onopen = () => {
    on("connected", "connected");
    term.focus();
  };
  ws.onmessage = (ev) => term.write(new Uint8Array(ev.data as ArrayBuffer));
  ws.onerror = () => on("error", "the console connection failed");
  ws.onclose = (ev) => on("closed", ev.reason ? `console closed: ${ev.reason}` : "console closed");
  term.onData(send);
  // Ctrl+Shift+C copies the selection, Ctrl+Shift+V pastes (Ctrl+C and Ctrl+V go to the guest).
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== "keydown" || !e.ctrlKey || !e.shiftKey) return true;
    if (e.code === "KeyC") {
      const sel = term.getSelection();
      if (sel) void navigator.clipboard?.writeText(sel).catch(() => undefined);
      return false;
    }
    if (e.code === "KeyV") {
      void navigator.clipboard?.readText().then((t) => term.paste(t), () => undefined);
      return false;
    }
    return true;
  });
  return {
    dispose() {
      ro.disconnect();
      ws.close();
      term.dispose();
    },
    focus: () => term.focus(),
    size: () => ({ cols: term.cols, rows: term.rows }),
    text() {
      const b = term.buffer.active;
      const lines: string[] = [];
      for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? "");
      return lines.join("\n").replace(/\n+$/, "");
    },
  };
}

(window as unknown as { qxTerm: QxTerm }).qxTerm = { open };
