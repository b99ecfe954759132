/**
 * @module download
 * `qx-update --image https://...`: the image and its `.sha256` / `.sig` are
 * streamed to a work directory, then verified like a local file. Only https.
 */
import { createWriteStream, promises as fs } from "node:fs";
import { basename, join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DownloadError } from "./errors.ts";

export interface Downloaded {
  readonly image: string;
  readonly dir: string;
}

async function fetchTo(url: string, out: string, optional: boolean, onProgress?: (done: number, total: number) => void): Promise<boolean> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: "follow" });
  } catch (e) {
    throw new DownloadError(url, `cannot connect: ${(e as Error).message}`, { cause: e });
  }
  if (res.status === 404 && optional) return false;
  if (!res.ok || !res.body) throw new DownloadError(url, `HTTP ${res.status}`);
  const total = Number(res.headers.get("content-length") ?? 0);
  let done = 0;
  const body = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
  body.on("data", (c: Buffer) => {
    done += c.length;
    onProgress?.(done, total);
  });
  await pipeline(body, createWriteStream(out));
  return true;
}

/** Downloads `url` (+ `.sha256`, `.sig` when present) into `dir`. */
export async function downloadImage(url: string, dir: string, onProgress?: (done: number, total: number) => void): Promise<Downloaded> {
  if (!/^https:\/\//.test(url)) throw new DownloadError(url, "only https:// URLs are accepted");
  await fs.mkdir(dir, { recursive: true });
  const name = basename(new URL(url).pathname) || "system.squashfs";
  const image = join(dir, name);
  await fetchTo(url, image, false, onProgress);
  await fetchTo(`${url}.sha256`, `${image}.sha256`, true);
  await fetchTo(`${url}.sig`, `${image}.sig`, true);
  return { image, dir };
}
