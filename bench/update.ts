/**
 * bench/update: applying a full-size system image with qx-update (verify: SHA-256 +
 * OpenPGP signature + squashfs/release checks; write + fsync; read back + re-hash;
 * two boot-env writes) ÷ `dd` of the same bytes to the same target with conv=fsync
 * and reading them back (sha256sum). Goal ≤ 1.3×.
 * The target is a slot of a disk image file laid out by core's planDisk (or, with
 * --device, that block device: both runs write it whole).
 *   npx tsx bench/update.ts --image output/system-V.squashfs [--runs 3]
 */
import { spawnSync } from "node:child_process";
import { promises as fs } from "node:fs";
import { parseArgs } from "node:util";
import { applyUpdate } from "../packages/update/src/install.ts";
import { makeFakeNode, makeSigningKey, signFile, tempDir } from "../packages/update/src/test-support.ts";
import { join } from "node:path";

const { values } = parseArgs({ options: { image: { type: "string" }, runs: { type: "string" } } });
if (!values.image) {
  console.error("usage: update.ts --image SYSTEM.squashfs [--runs N]");
  process.exit(2);
}
const runs = Number(values.runs ?? 3);
const work = await tempDir("bench");
const key = await makeSigningKey("bench");
const image = join(work, "system.squashfs");
await fs.copyFile(values.image, image);
await signFile(image, key);
const size = (await fs.stat(image)).size;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const applyMs: number[] = [];
const ddMs: number[] = [];
const parts: Record<string, number>[] = [];
for (let i = 0; i < runs; i++) {
  const node = await makeFakeNode("0.0.0-bench", [key]);
  const region = await node.slots.region("B");
  // dd: same bytes, same target, fsync, then read back and hash.
  spawnSync("sync");
  let t = performance.now();
  let r = spawnSync("dd", [`if=${image}`, `of=${node.disk}`, "bs=4M", `seek=${region.offset}`, "oflag=seek_bytes", "conv=notrunc,fsync", "status=none"]);
  if (r.status !== 0) throw new Error(`dd: ${r.stderr}`);
  r = spawnSync("sh", ["-c", `dd if='${node.disk}' bs=4M skip=${region.offset} count=${size} iflag=skip_bytes,count_bytes status=none | sha256sum`]);
  if (r.status !== 0) throw new Error(`dd read-back: ${r.stderr}`);
  ddMs.push(performance.now() - t);
  // qx-update.
  spawnSync("sync");
  t = performance.now();
  const res = await applyUpdate(node.ctx(), { image });
  applyMs.push(performance.now() - t);
  parts.push(res.ms);
  await fs.rm(node.dir, { recursive: true, force: true });
}
await fs.rm(work, { recursive: true, force: true });
await fs.rm(key.home, { recursive: true, force: true });
const a = median(applyMs);
const d = median(ddMs);
console.log(`image ${(size / 2 ** 20).toFixed(1)} MiB, ${runs} runs (median)`);
console.log(`dd write+fsync+read-back: ${(d / 1000).toFixed(2)} s`);
console.log(`qx-update apply:          ${(a / 1000).toFixed(2)} s  (verify ${(median(parts.map((p) => p.verify as number)) / 1000).toFixed(2)} s, write ${(median(parts.map((p) => p.write as number)) / 1000).toFixed(2)} s, read-back ${(median(parts.map((p) => p.readBack as number)) / 1000).toFixed(2)} s)`);
console.log(`ratio apply/dd: ${(a / d).toFixed(2)}x (goal <= 1.3x)`);
