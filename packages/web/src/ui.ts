/**
 * @module ui
 * The web UI's component layer: Preact (10, ~4 KiB gzipped) with htm tagged templates,
 * so components are plain TypeScript with no JSX build step (esbuild bundles them as
 * they are). A page built with it keeps its DOM across data updates: Preact patches
 * what changed, so an open console, a dialog or a half-filled form survives a refresh
 * of the list beside it. Text from the API goes in as text (htm never parses values as
 * HTML).
 *
 * @example
 * ```ts
 * import { html, render, useState } from "./ui.ts";
 * function Counter() { const [n, set] = useState(0); return html`<button onClick=${() => set(n + 1)}>${n}</button>`; }
 * render(html`<${Counter} />`, el);
 * ```
 */
import { html, render } from "htm/preact";

export { html, render };
/** Empties `el` (unmounts what `render` put there). */
export const unmount = (el: HTMLElement): void => render(null as never, el);
export { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
export type { ComponentChildren } from "preact";

const scripts = new Map<string, Promise<unknown>>();
/**
 * Loads the script at `src` once and resolves with `window[global]`, which the script
 * sets (the on-demand viewers: /vnc.js, /term.js). A failed load may be retried.
 */
export function loadScript<T>(src: string, global: string, what: string): Promise<T> {
  let p = scripts.get(src) as Promise<T> | undefined;
  if (!p) {
    p = new Promise<T>((resolve, reject) => {
      const s = document.createElement("script");
      s.src = src;
      s.onload = () => {
        const v = (window as unknown as Record<string, T | undefined>)[global];
        if (v) resolve(v);
        else reject(new Error(`the ${what} did not load`));
      };
      s.onerror = () => {
        scripts.delete(src);
        reject(new Error(`could not load the ${what} (${src})`));
      };
      document.head.append(s);
    });
    scripts.set(src, p);
  }
  return p;
}

/** Adds the stylesheet at `href` once. */
export function loadStyle(href: string): void {
  if (document.querySelector(`link[href="${href}"]`)) return;
  const l = document.createElement("link");
  l.rel = "stylesheet";
  l.href = href;
  document.head.append(l);
}
