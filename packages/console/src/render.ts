/**
 * @module render
 * The DCUI's one renderer: a screen is 25 rows of exactly 80 columns (a box with a
 * title, a body and a key-hint footer), and the terminal writer repaints only the rows
 * that changed. No colours, no terminfo: plain text plus a few VT100 sequences every
 * Linux console, serial terminal and xterm understands.
 *
 * Why hand-written and not ink: ink (React) costs ~25 MB of RSS and a render loop,
 * drops the function keys (so raw input must be parsed here anyway), and the DCUI is a
 * handful of fixed 80×25 monochrome screens: a row-diffing writer of ~80 lines is all
 * it needs, and keeps qx-console small and idle.
 *
 * @example
 * ```ts
 * const term = terminal(process.stdout);
 * term.draw(frame({ title: "Configure Network", body: ["..."], footer: "[Esc] Back" }));
 * ```
 */

export const WIDTH = 80;
export const HEIGHT = 25;
/** Columns inside the box's borders. */
export const INNER = WIDTH - 2;

export const cols = (s: string): number => [...s].length;

/** Cuts `s` to `n` columns ("…" marks the cut) and pads it to exactly `n`. */
export function fit(s: string, n: number): string {
  const chars = [...s];
  if (chars.length > n) return `${chars.slice(0, n - 1).join("")}…`;
  return s + " ".repeat(n - chars.length);
}

export function center(s: string, n: number): string {
  const t = [...s].length > n ? fit(s, n) : s;
  return fit(`${" ".repeat(Math.floor((n - cols(t)) / 2))}${t}`, n);
}

export interface FrameInput {
  readonly title: string;
  readonly subtitle?: string;
  readonly body: readonly string[];
  /** Key hints, one or two lines. */
  readonly footer: readonly string[];
}

/** The body rows available between the header and the footer, for `footerLines` hint lines. */
export function bodyRows(footerLines = 1, subtitle = false): number {
  // top rule, title, [subtitle], rule | body | rule, footer lines, bottom rule
  return HEIGHT - 5 - (subtitle ? 1 : 0) - footerLines;
}

/** Lays a screen out as HEIGHT rows of WIDTH columns. Body rows beyond the space are cut. */
export function frame(f: FrameInput): string[] {
  const rule = (l: string, r: string): string => `${l}${"═".repeat(INNER)}${r}`;
  const row = (s: string): string => `║${fit(s, INNER)}║`;
  const out = [rule("╔", "╗"), `║${center(f.title, INNER)}║`];
  if (f.subtitle !== undefined) out.push(`║${center(f.subtitle, INNER)}║`);
  out.push(rule("╠", "╣"));
  const rows = bodyRows(f.footer.length, f.subtitle !== undefined);
  for (let i = 0; i < rows; i++) out.push(row(f.body[i] ?? ""));
  out.push(rule("╠", "╣"));
  for (const l of f.footer) out.push(row(` ${l}`));
  out.push(rule("╚", "╝"));
  return out;
}

export interface Terminal {
  /** Paints `rows`, writing only the rows that differ from the last paint. */
  draw(rows: readonly string[]): void;
  /** Forgets what is on the screen (after a shell ran on it): the next draw is full. */
  reset(): void;
  /** Clears the screen and shows the cursor (on exit or before a shell). */
  release(): void;
}

/** Home, clear, hide the cursor, no screen blanking (Linux console `ESC[9;0]`). */
const SETUP = "\x1b[H\x1b[2J\x1b[?25l\x1b[9;0]";

export function terminal(out: { write(s: string): unknown }): Terminal {
  let shown: string[] | null = null;
  return {
    draw(rows) {
      let s = "";
      if (!shown) s += SETUP;
      rows.forEach((r, i) => {
        if (shown?.[i] !== r) s += `\x1b[${i + 1};1H${r}`;
      });
      shown = [...rows];
      if (s) out.write(s);
    },
    reset() {
      shown = null;
    },
    release() {
      shown = null;
      out.write("\x1b[H\x1b[2J\x1b[?25h");
    },
  };
}
