/**
 * @module keys
 * A pure parser of raw terminal input into key names. The DCUI reads stdin in raw
 * mode and parses the bytes itself, because the function keys arrive differently on
 * each terminal and TUI libraries drop some of them:
 *
 * - Linux console: F1–F5 `ESC [ [ A`..`ESC [ [ E`, F6–F12 `ESC [ 17 ~`..`ESC [ 24 ~`
 * - xterm, tmux, serial terminals: F1–F4 `ESC O P`..`ESC O S`, F5–F12 `ESC [ 15 ~`..
 * - also `ESC [ 11 ~`..`ESC [ 14 ~` (rxvt / VT220 F1–F4), arrows `ESC [ A` / `ESC O A`.
 *
 * An incomplete sequence at the end of a chunk is returned as `rest`, to be prefixed to
 * the next chunk; a lone ESC is only a key once no more bytes follow (`final`).
 *
 * @example
 * ```ts
 * parseKeys("\x1b[[B\x1b[21~x", true); // { keys: [{ name: "f2" }, { name: "f10" }, { name: "char", ch: "x" }], rest: "" }
 * ```
 */

export type KeyName =
  | "f1" | "f2" | "f3" | "f4" | "f5" | "f6" | "f7" | "f8" | "f9" | "f10" | "f11" | "f12"
  | "up" | "down" | "left" | "right" | "home" | "end" | "pageup" | "pagedown" | "insert" | "delete"
  | "tab" | "backtab" | "enter" | "escape" | "backspace" | "ctrl-c" | "ctrl-l" | "char" | "unknown";

export interface Key {
  readonly name: KeyName;
  /** The character, for `char`. */
  readonly ch?: string;
}

/** `ESC [ N ~` codes (VT220 / xterm / Linux console). */
const TILDE: Record<string, KeyName> = {
  "1": "home", "2": "insert", "3": "delete", "4": "end", "5": "pageup", "6": "pagedown", "7": "home", "8": "end",
  "11": "f1", "12": "f2", "13": "f3", "14": "f4", "15": "f5",
  "17": "f6", "18": "f7", "19": "f8", "20": "f9", "21": "f10", "23": "f11", "24": "f12",
};
/** Final letters of `ESC [ X` and `ESC O X` (also with modifiers, `ESC [ 1 ; 2 P`). */
const LETTER: Record<string, KeyName> = {
  A: "up", B: "down", C: "right", D: "left", H: "home", F: "end", Z: "backtab",
  P: "f1", Q: "f2", R: "f3", S: "f4",
};
/** Linux console `ESC [ [ A`..`ESC [ [ E`. */
const LINUX_F: Record<string, KeyName> = { A: "f1", B: "f2", C: "f3", D: "f4", E: "f5" };

type Step = { key: Key; len: number } | "incomplete";

function escapeSequence(s: string, i: number): Step {
  const next = s[i + 1];
  if (next === undefined) return "incomplete";
  if (next === "O") {
    const c = s[i + 2];
    if (c === undefined) return "incomplete";
    return { key: { name: LETTER[c] ?? "unknown" }, len: 3 };
  }
  if (next === "[") {
    if (s[i + 2] === "[") {
      const c = s[i + 3];
      if (c === undefined) return "incomplete";
      return { key: { name: LINUX_F[c] ?? "unknown" }, len: 4 };
    }
    // CSI: parameters (digits and ';') then one final byte.
    let j = i + 2;
    while (j < s.length && /[0-9;]/.test(s[j]!)) j++;
    if (j >= s.length) return j - i > 16 ? { key: { name: "unknown" }, len: j - i } : "incomplete";
    const params = s.slice(i + 2, j);
    const final = s[j]!;
    const len = j - i + 1;
    if (final === "~") return { key: { name: TILDE[params.split(";")[0] ?? ""] ?? "unknown" }, len };
    return { key: { name: LETTER[final] ?? "unknown" }, len };
  }
  // Alt+key or a lone ESC followed by typing: the ESC is a key of its own.
  return { key: { name: "escape" }, len: 1 };
}

function single(c: string): Key {
  switch (c) {
    case "\r":
    case "\n":
      return { name: "enter" };
    case "\t":
      return { name: "tab" };
    case "\x7f":
    case "\b":
      return { name: "backspace" };
    case "\x03":
      return { name: "ctrl-c" };
    case "\x0c":
      return { name: "ctrl-l" };
    default:
      return c < " " ? { name: "unknown" } : { name: "char", ch: c };
  }
}

/**
 * Parses `input` into keys. With `final` false, an unfinished escape sequence at the
 * end is left in `rest`; with `final` true (no more bytes came within a short wait) a
 * trailing lone ESC is the Escape key.
 */
export function parseKeys(input: string, final = false): { keys: Key[]; rest: string } {
  const keys: Key[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === "\x1b") {
      const step = escapeSequence(input, i);
      if (step === "incomplete") {
        if (!final) return { keys, rest: input.slice(i) };
        keys.push({ name: "escape" });
        i += 1;
        continue;
      }
      keys.push(step.key);
      i += step.len;
      continue;
    }
    // "\r\n" from some serial terminals is one Enter.
    if (c === "\r" && input[i + 1] === "\n") i++;
    const cp = input.codePointAt(i)!;
    const ch = String.fromCodePoint(cp);
    keys.push(single(ch));
    i += ch.length;
  }
  return { keys, rest: "" };
}
