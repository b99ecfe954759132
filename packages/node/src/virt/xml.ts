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

const TAG = /<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
const ATTR = /([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/** Parses one document and returns its root element; throws XmlParseError. */
export function parseXml(text: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf("<", i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    const top = stack[stack.length - 1];
    if (top && chunk.trim()) top.text += decodeEntities(chunk.trim());
    if (lt < 0) break;
    if (text.startsWith("<!--", lt)) {
      const end = text.indexOf("-->", lt + 4);
      if (end < 0) throw new XmlParseError("unterminated comment");
      i = end + 3;
      continue;
    }
    if (text.startsWith("<?", lt)) {
      const end = text.indexOf("?>", lt + 2);
      if (end < 0) throw new XmlParseError("unterminated processing instruction");
      i = end + 2;
      continue;
    }
    if (text.startsWith("<![CDATA[", lt)) {
      const end = text.indexOf("]]>", lt);
      if (end < 0) throw new XmlParseError("unterminated CDATA");
      if (top) top.text += text.slice(lt + 9, end);
      i = end + 3;
      continue;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(text);
    if (!m) throw new XmlParseError(`malformed tag at offset ${lt}`);
    i = TAG.lastIndex;
    const [, closing, name = "", attrText = "", selfClosing] = m;
    if (closing) {
      const open = stack.pop();
      if (open?.name !== name) throw new XmlParseError(`</${name}> does not close <${open?.name ?? "nothing"}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of attrText.matchAll(ATTR)) attrs[a[1] ?? ""] = decodeEntities(a[2] ?? a[3] ?? "");
    const el: XmlElement = { name, attrs, children: [], text: "" };
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
