/**
 * @module screens/logs
 * F3 View Logs: one log source at a time (←/→ picks it), its last lines, scrolled with
 * ↑/↓/PgUp/PgDn/Home/End; [F] follows it (qx-node's server-sent events) and keeps the
 * view at the end while new lines arrive.
 */
import type { App, Screen } from "../app.ts";
import { errorText } from "../node-api.ts";
import { bodyRows, INNER } from "../render.ts";

const KEEP = 2000;
/** Rows for log text: the body less the source line and the status line. */
const ROWS = bodyRows(1) - 2;

export function logsScreen(app: App): Screen {
  let sources: string[] = [];
  let index = 0;
  let lines: string[] = [];
  /** First shown line; null: stick to the end. */
  let top: number | null = null;
  let stopFollow: (() => void) | null = null;
  let status = "";

  const source = (): string | undefined => sources[index];

  function unfollow(): void {
    stopFollow?.();
    stopFollow = null;
  }

  async function load(): Promise<void> {
    unfollow();
    const s = source();
    if (!s) return;
    // Nothing stale on screen while loading: a key pressed on old lines would be undone.
    lines = [];
    top = null;
    status = `Loading ${s}...`;
    app.draw();
    try {
      const a = await app.api.call<{ lines: string[] }>("GET", `/api/v1/logs/${encodeURIComponent(s)}?lines=500`);
      lines = a.status === 200 ? a.body.lines : [];
      status = a.status === 200 ? `${lines.length} lines` : `✗ ${errorText(a)}`;
    } catch (e) {
      status = `✗ ${e instanceof Error ? e.message : String(e)}`;
    }
    app.draw();
  }

  function follow(): void {
    const s = source();
    if (!s) return;
    top = null;
    status = "following";
    stopFollow = app.api.follow(
      `/api/v1/logs/${encodeURIComponent(s)}/follow`,
      (more) => {
        lines = [...lines, ...more].slice(-KEEP);
        app.draw();
      },
      (why) => {
        stopFollow = null;
        status = `follow stopped: ${why}`;
        app.draw();
      },
    );
  }

  function scroll(d: number): void {
    const max = Math.max(0, lines.length - ROWS);
    const now = top ?? max;
    top = Math.min(max, Math.max(0, now + d));
    if (top === max) top = null;
  }

  return {
    async enter() {
      lines = [];
      top = null;
      status = "Loading...";
      try {
        const a = await app.api.call<{ name: string }[]>("GET", "/api/v1/logs");
        sources = a.status === 200 ? a.body.map((s) => s.name) : [];
        const i = sources.indexOf("qx-node");
        index = Math.max(i, 0);
        status = sources.length ? "" : `✗ no logs (${errorText(a)})`;
      } catch (e) {
        status = `✗ ${e instanceof Error ? e.message : String(e)}`;
      }
      await load();
    },
    leave() {
      unfollow();
    },
    view() {
      const max = Math.max(0, lines.length - ROWS);
      const first = top ?? max;
      const shown = lines.slice(first, first + ROWS).map((l) => ` ${l.replace(/[\x00-\x1f\x7f]/g, " ")}`.slice(0, INNER));
      const tabs = sources.map((s, i) => (i === index ? `[${s}]` : ` ${s} `)).join(" ");
      const where = lines.length ? `lines ${first + 1}-${Math.min(lines.length, first + ROWS)} of ${lines.length}` : "empty";
      return {
        title: "View Logs",
        body: [` Log: ${tabs}`, ...shown, ...Array(Math.max(0, ROWS - shown.length)).fill(""), ` ${where}${stopFollow ? "  FOLLOWING" : ""}  ${status}`],
        footer: ["[←/→] Log  [↑/↓/PgUp/PgDn/Home/End] Scroll  [F] Follow on/off  [Esc] Back"],
      };
    },
    key(k) {
      switch (k.name) {
        case "left":
        case "right":
          if (sources.length) {
            index = (index + (k.name === "right" ? 1 : sources.length - 1)) % sources.length;
            void load();
          }
          return true;
        case "up":
          scroll(-1);
          return true;
        case "down":
          scroll(1);
          return true;
        case "pageup":
          scroll(-ROWS);
          return true;
        case "pagedown":
          scroll(ROWS);
          return true;
        case "home":
          top = 0;
          return true;
        case "end":
          top = null;
          return true;
        case "char":
          if (k.ch === "f" || k.ch === "F") {
            if (stopFollow) {
              unfollow();
              status = "";
            } else follow();
          }
          return true;
        default:
          return false;
      }
    },
  };
}
