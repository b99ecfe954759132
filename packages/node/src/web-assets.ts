/**
 * @module web-assets
 * The web UI's files (packages/web), as a map of URL path → content. When running
 * from source (tests, development) they are built here with esbuild on first use;
 * `scripts/bundle.mjs` replaces this module in the qx-node bundle with the prebuilt
 * files (a chunk in `/usr/local/bin/qx-node.chunks/`, read on the first request for
 * one), so the image needs no esbuild at run time.
 */

/** One file of the UI. */
export interface WebAsset {
  readonly type: string;
  readonly body: string;
}
export type WebAssets = Readonly<Record<string, WebAsset>>;

/** Builds (from source) the UI's files. */
export async function loadWebAssets(): Promise<WebAssets> {
  const { buildWeb } = await import("@quantix/web/build.mjs");
  return buildWeb();
}
