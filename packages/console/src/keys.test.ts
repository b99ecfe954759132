import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type KeyName, parseKeys } from "./keys.ts";

const names = (s: string, final = true): string[] => parseKeys(s, final).keys.map((k) => (k.name === "char" ? `char:${k.ch}` : k.name));

describe("key parser", () => {
  const table: [string, string, KeyName][] = [
    // Linux console
    ["linux F1", "\x1b[[A", "f1"],
    ["linux F2", "\x1b[[B", "f2"],
    ["linux F3", "\x1b[[C", "f3"],
    ["linux F4", "\x1b[[D", "f4"],
    ["linux F5", "\x1b[[E", "f5"],
    // xterm / serial: SS3 F1-F4
    ["xterm F1", "\x1bOP", "f1"],
    ["xterm F2", "\x1bOQ", "f2"],
    ["xterm F3", "\x1bOR", "f3"],
    ["xterm F4", "\x1bOS", "f4"],
    // VT220 / rxvt F1-F4
    ["vt220 F1", "\x1b[11~", "f1"],
    ["vt220 F2", "\x1b[12~", "f2"],
    ["vt220 F3", "\x1b[13~", "f3"],
    ["vt220 F4", "\x1b[14~", "f4"],
    // both: F5-F12
    ["F5", "\x1b[15~", "f5"],
    ["F6", "\x1b[17~", "f6"],
    ["F7", "\x1b[18~", "f7"],
    ["F8", "\x1b[19~", "f8"],
    ["F9", "\x1b[20~", "f9"],
    ["F10", "\x1b[21~", "f10"],
    ["F11", "\x1b[23~", "f11"],
    ["F12", "\x1b[24~", "f12"],
    ["xterm F1 with a modifier", "\x1b[1;2P", "f1"],
    ["F5 with a modifier", "\x1b[15;5~", "f5"],
    // arrows, both cursor modes
    ["up", "\x1b[A", "up"],
    ["down", "\x1b[B", "down"],
    ["right", "\x1b[C", "right"],
    ["left", "\x1b[D", "left"],
    ["up (application mode)", "\x1bOA", "up"],
    ["down (application mode)", "\x1bOB", "down"],
    ["right (application mode)", "\x1bOC", "right"],
    ["left (application mode)", "\x1bOD", "left"],
    ["home", "\x1b[1~", "home"],
    ["end", "\x1b[4~", "end"],
    ["home (xterm)", "\x1b[H", "home"],
    ["end (xterm)", "\x1b[F", "end"],
    ["page up", "\x1b[5~", "pageup"],
    ["page down", "\x1b[6~", "pagedown"],
    ["delete", "\x1b[3~", "delete"],
    ["shift-tab", "\x1b[Z", "backtab"],
    ["tab", "\t", "tab"],
    ["enter (CR)", "\r", "enter"],
    ["enter (LF)", "\n", "enter"],
    ["enter (CRLF, serial)", "\r\n", "enter"],
    ["backspace (DEL)", "\x7f", "backspace"],
    ["backspace (BS)", "\b", "backspace"],
    ["ctrl-c", "\x03", "ctrl-c"],
    ["ctrl-l", "\x0c", "ctrl-l"],
    ["escape (alone, final)", "\x1b", "escape"],
  ];
  for (const [what, seq, name] of table) {
    it(`${what}: ${JSON.stringify(seq)} → ${name}`, () => {
      assert.deepEqual(names(seq), [name]);
    });
  }

  it("several keys and text in one chunk", () => {
    assert.deepEqual(names("a\x1b[[B1.\x1b[21~\x1bOP\x1b[24~é\r"), ["char:a", "f2", "char:1", "char:.", "f10", "f1", "f12", "char:é", "enter"]);
  });

  it("an escape sequence split across chunks is kept for the next chunk", () => {
    for (const seq of ["\x1b[[E", "\x1b[24~", "\x1bOS", "\x1b[15;5~"]) {
      for (let cut = 1; cut < seq.length; cut++) {
        const first = parseKeys(`x${seq.slice(0, cut)}`, false);
        assert.deepEqual(first.keys, [{ name: "char", ch: "x" }]);
        assert.equal(first.rest, seq.slice(0, cut));
        const second = parseKeys(first.rest + seq.slice(cut), false);
        assert.equal(second.rest, "");
        assert.equal(second.keys.length, 1, JSON.stringify(seq));
        assert.notEqual(second.keys[0]?.name, "unknown");
      }
    }
  });

  it("a lone ESC waits unless final; ESC then a letter is Escape then the letter", () => {
    assert.deepEqual(parseKeys("\x1b", false), { keys: [], rest: "\x1b" });
    assert.deepEqual(names("\x1bq"), ["escape", "char:q"]);
    assert.deepEqual(names("\x1b\x1b[A"), ["escape", "up"]);
  });

  it("unknown sequences are consumed whole, not typed as text", () => {
    assert.deepEqual(names("\x1b[99~\x1b[[Zq"), ["unknown", "unknown", "char:q"]);
    assert.deepEqual(names("\x01"), ["unknown"]);
  });

  it("an endless CSI is cut, not buffered forever", () => {
    const r = parseKeys(`\x1b[${"1".repeat(40)}`, false);
    assert.equal(r.rest, "");
    assert.equal(r.keys[0]?.name, "unknown");
  });
});
