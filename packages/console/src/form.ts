/**
 * @module form
 * The fields of the DCUI's forms (text, choice, button), moved through with
 * Tab/Shift-Tab/↑/↓, edited in place, validated on every key. A form is data plus a
 * key handler; it renders to body lines, so screens lay it out with the rest.
 *
 * @example
 * ```ts
 * const f = new Form([text("address", "Address (CIDR)", { validate: ipv4Cidr }), button("apply", "Apply")]);
 * f.key({ name: "char", ch: "1" }); // edits the focused field
 * f.errors(); // { address: "expected an IPv4 address in CIDR form ..." }
 * ```
 */
import type { Key } from "./keys.ts";
import type { Validator } from "./validate.ts";

export interface TextField {
  readonly kind: "text";
  readonly id: string;
  readonly label: string;
  value: string;
  readonly secret?: boolean;
  readonly max: number;
  validate?: Validator;
  /** Hidden fields are skipped (e.g. the address while DHCP is chosen). */
  hidden?: () => boolean;
}
export interface ChoiceField {
  readonly kind: "choice";
  readonly id: string;
  readonly label: string;
  readonly options: readonly string[];
  index: number;
  hidden?: () => boolean;
}
export interface ButtonField {
  readonly kind: "button";
  readonly id: string;
  readonly label: string;
  hidden?: () => boolean;
}
export type Field = TextField | ChoiceField | ButtonField;

export function text(id: string, label: string, o: { value?: string; secret?: boolean; max?: number; validate?: Validator; hidden?: () => boolean } = {}): TextField {
  return { kind: "text", id, label, value: o.value ?? "", secret: o.secret ?? false, max: o.max ?? 64, validate: o.validate, hidden: o.hidden };
}
export function choice(id: string, label: string, options: readonly string[], index = 0, hidden?: () => boolean): ChoiceField {
  return { kind: "choice", id, label, options, index, hidden };
}
export function button(id: string, label: string): ButtonField {
  return { kind: "button", id, label };
}

/** What a key did: nothing special, or a button was pressed. */
export type FormEvent = { pressed: string } | null;

const LABEL_COLS = 22;

export class Form {
  focus = 0;
  constructor(readonly fields: Field[]) {}

  visible(): Field[] {
    return this.fields.filter((f) => !f.hidden?.());
  }
  get(id: string): Field {
    const f = this.fields.find((x) => x.id === id);
    if (!f) throw new Error(`no field ${id}`);
    return f;
  }
  value(id: string): string {
    const f = this.get(id);
    return f.kind === "text" ? f.value.trim() : f.kind === "choice" ? (f.options[f.index] ?? "") : "";
  }
  focused(): Field | undefined {
    const v = this.visible();
    this.focus = Math.min(this.focus, v.length - 1);
    return v[this.focus];
  }
  /** Messages of the visible text fields that do not validate, by id. */
  errors(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const f of this.visible()) {
      if (f.kind !== "text" || !f.validate) continue;
      const e = f.validate(f.value);
      if (e) out[f.id] = e;
    }
    return out;
  }

  key(k: Key): FormEvent {
    const v = this.visible();
    if (v.length === 0) return null;
    const f = this.focused();
    const move = (d: number): void => {
      this.focus = (this.focus + d + v.length) % v.length;
    };
    switch (k.name) {
      case "tab":
      case "down":
        move(1);
        return null;
      case "backtab":
      case "up":
        move(-1);
        return null;
      case "enter":
        if (f?.kind === "button") return { pressed: f.id };
        move(1);
        return null;
      case "left":
      case "right":
        if (f?.kind === "choice") f.index = (f.index + (k.name === "right" ? 1 : f.options.length - 1)) % f.options.length;
        return null;
      case "char":
        if (f?.kind === "text" && k.ch && f.value.length < f.max) f.value += k.ch;
        else if (f?.kind === "choice" && k.ch === " ") f.index = (f.index + 1) % f.options.length;
        return null;
      case "backspace":
        if (f?.kind === "text") f.value = [...f.value].slice(0, -1).join("");
        return null;
      default:
        return null;
    }
  }

  /** One line per visible field (and one under each invalid, non-empty text field). */
  lines(): string[] {
    const out: string[] = [];
    const focused = this.focused();
    for (const f of this.visible()) {
      const mark = f === focused ? ">" : " ";
      if (f.kind === "button") {
        out.push(`   ${mark} [ ${f.label} ]`);
        continue;
      }
      const label = `${f.label}:`.padEnd(LABEL_COLS);
      if (f.kind === "choice") {
        out.push(`   ${mark} ${label}${f.options.map((o, i) => (i === f.index ? `(•) ${o}` : `( ) ${o}`)).join("  ")}`);
        continue;
      }
      const shown = f.secret ? "*".repeat([...f.value].length) : f.value;
      out.push(`   ${mark} ${label}[${shown}${f === focused ? "_" : ""}]`);
      const e = f.value.trim() !== "" ? f.validate?.(f.value) : null;
      if (e) out.push(`       ✗ ${e}`);
    }
    return out;
  }
}
