/**
 * @module virt/xml
 * The little XML libvirt needs: escaping for text and attributes (every value from a
 * request goes through {@link escapeXml}, so a name like `a'/><x` cannot inject
 * elements), and a small parser for the documents `virsh dumpxml` prints (elements,
 * attributes, text; comments, processing instructions and CDATA are skipped or kept
 * as text). It is not a general XML parser: no DTDs, no entity declarations.
 *
 * @example
 * ```ts
 * const root = parseXml("<domain type='qemu'><name>web</name></domain>");
 * child(root, "name")?.text; // "web"
 * ```
 */

/** An element: name, attributes, child elements and its own text (trimmed, concatenated). */
export interface XmlElement {
  readonly name: string;
  readonly attrs: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  text: string;
}

/** The document is not the XML this parser reads. */
export class XmlParseError extends Error {
  override name = "XmlParseError";
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

/** Escapes text or an attribute value; control characters XML 1.0 forbids are refused. */
export function escapeXml(value: string | number): string {
  const s = String(value);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(s)) throw new XmlParseError("control characters cannot be written to XML");
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (_, e: string) => {
    if (e.startsWith("#x")) return String.fromCodePoint(Number.parseInt(e.slice(2), 16));
    if (e.startsWith("#")) return String.fromCodePoint(Number(e.slice(1)));
    return ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[e] ?? "";
  });
}

const NAME_START = /[A-Za-z_]/;

/** Parses the attributes in `s` (the inside of a start tag after its name). */
function parseAttrs(s: string, at: number): Record<string, string> {
  const attrs: Record<string, string> = {};
  let i = 0;
  const n = s.length;
  while (i < n) {
    while (i < n && s.charCodeAt(i) <= 32) i++;
    if (i >= n) break;
    const eq = s.indexOf("=", i);
    if (eq < 0 || !NAME_START.test(s[i] ?? "")) throw new XmlParseError(`malformed attribute at offset ${at + i}`);
    const name = s.slice(i, eq).trim();
    let j = eq + 1;
    while (j < n && s.charCodeAt(j) <= 32) j++;
    const q = s[j];
    if (q !== '"' && q !== "'") throw new XmlParseError(`unquoted attribute ${name} at offset ${at + i}`);
    const close = s.indexOf(q, j + 1);
    if (close < 0) throw new XmlParseError(`unterminated attribute ${name} at offset ${at + i}`);
    const raw = s.slice(j + 1, close);
    attrs[name] = raw.includes("&") ? decodeEntities(raw) : raw;
    i = close + 1;
  }
  return attrs;
}

/** Parses one document and returns its root element; throws XmlParseError. */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const top = stack[stack.length - 1];
    if (top && lt !== i) {
      const chunk = (lt < 0 ? text.slice(i) : text.slice(i, lt)).trim();
      if (chunk) top.text += chunk.includes("&") ? decodeEntities(chunk) : chunk;
    }
    if (lt < 0) break;
    const c1 = text[lt + 1];
    if (c1 === "!" || c1 === "?") {
      if (text.startsWith("<!--", lt)) {
        const end = text.indexOf("-->", lt + 4);
        if (end < 0) throw new XmlParseError("unterminated comment");
        i = end + 3;
      } else if (text.startsWith("<![CDATA[", lt)) {
        const end = text.indexOf("]]>", lt);
        if (end < 0) throw new XmlParseError("unterminated CDATA");
        if (top) top.text += text.slice(lt + 9, end);
        i = end + 3;
      } else if (c1 === "?") {
        const end = text.indexOf("?>", lt + 2);
        if (end < 0) throw new XmlParseError("unterminated processing instruction");
        i = end + 2;
      } else throw new XmlParseError(`unsupported markup at offset ${lt}`);
      continue;
    }
    // Find the end of the tag, skipping '>' inside quoted attribute values.
    let gt = lt + 1;
    let quote = "";
    for (; gt < text.length; gt++) {
      const ch = text[gt];
      if (quote) {
        if (ch === quote) quote = "";
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === ">") break;
    }
    if (gt >= text.length) throw new XmlParseError(`unterminated tag at offset ${lt}`);
    i = gt + 1;
    if (c1 === "/") {
      const name = text.slice(lt + 2, gt).trim();
      const open = stack.pop();
      if (open?.name !== name) throw new XmlParseError(`</${name}> does not close <${open?.name ?? "nothing"}>`);
      continue;
    }
    const selfClosing = text[gt - 1] === "/";
    const inner = text.slice(lt + 1, selfClosing ? gt - 1 : gt);
    let k = 0;
    while (k < inner.length && inner.charCodeAt(k) > 32) k++;
    const name = inner.slice(0, k);
    if (!/^[A-Za-z_][\w.:-]*$/.test(name)) throw new XmlParseError(`malformed tag at offset ${lt}`);
    const el: XmlElement = { name, attrs: k < inner.length ? parseAttrs(inner.slice(k), lt + 1 + k) : {}, children: [], text: "" };
    if (top) top.children.push(el);
    else if (root) throw new XmlParseError("more than one root element");
    else root = el;
    if (!selfClosing) stack.push(el);
  }
  if (stack.length > 0) throw new XmlParseError(`<${stack[stack.length - 1]?.name}> is not closed`);
  if (!root) throw new XmlParseError("no root element");
  return root;
}

/** The first child element named `name`. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Every child element named `name`. */
export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el?.children.filter((c) => c.name === name) ?? [];
}

/** Builds `<name a='v'>…</name>`; attribute values and string children are escaped. */
export function el(name: string, attrs: Record<string, string | number | undefined> = {}, ...content: (string | null | undefined | false)[]): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}='${escapeXml(v as string | number)}'`)
    .join("");
  const body = content.filter((c): c is string => typeof c === "string").join("");
  return body ? `<${name}${a}>${body}</${name}>` : `<${name}${a}/>`;
}

/** Escaped text content for {@link el}. */
export const text = (value: string | number): string => escapeXml(value);
