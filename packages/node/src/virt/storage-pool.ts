/**
 * @module virt/storage-pool
 * The VM storage pool: a directory on the `/data` partition (XFS), holding raw,
 * sparse volume files and uploaded ISOs. Volumes are plain files, so sizes are thin
 * (a 100 GiB disk takes only what the guest wrote), growing is a truncate, and
 * libvirt sees ordinary `<disk type='file'>` sources. Which VM uses a volume is the
 * caller's business (virt/vm-service); this module only manages files, safely:
 * every name is checked against {@link VolumeName} and resolved inside the pool, a
 * new volume is created exclusively, an upload goes to a hidden `.partial` file and
 * is renamed into place only when complete.
 *
 * An LVM thin pool (an install-time option in the product spec) is not implemented.
 *
 * @example
 * ```ts
 * const pool = storagePool("/data/volumes");
 * await pool.create("web-1-root", 20 * 1024);
 * ```
 */
import { createWriteStream, promises as fs } from "node:fs";
import { basename, join } from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { findMount, parseMountinfo } from "../services/mountinfo.ts";
import { StorageError, VirtExistsError, VirtNotFoundError, VirtRequestError } from "./errors.ts";
import { VolumeName } from "./spec.ts";

const MIB = 1024 * 1024;
const XFS_MAGIC = 0x58465342;
const EXT4_MAGIC = 0xef53;
const TMPFS_MAGIC = 0x01021994;

export const Volume = z.object({
  name: z.string(),
  /** Size the guest sees, in bytes. */
  capacity_bytes: z.number(),
  /** Bytes actually allocated on /data. */
  allocation_bytes: z.number(),
  format: z.enum(["raw", "iso"]),
});
export type Volume = z.infer<typeof Volume>;

export const PoolInfo = z.object({
  path: z.string(),
  type: z.literal("dir"),
  filesystem: z.string(),
  capacity_bytes: z.number(),
  available_bytes: z.number(),
  used_bytes: z.number(),
  /** Sum of the volumes' sizes (can exceed capacity: volumes are thin). */
  provisioned_bytes: z.number(),
  volumes: z.number(),
});
export type PoolInfo = z.infer<typeof PoolInfo>;

export interface StoragePool {
  readonly dir: string;
  info(): Promise<PoolInfo>;
  list(): Promise<Volume[]>;
  get(name: string): Promise<Volume | null>;
  /** Absolute path of volume `name` (checked; it need not exist). */
  path(name: string): string;
  exists(name: string): Promise<boolean>;
  /** Creates an empty (sparse) raw volume; 409 when the name exists. */
  create(name: string, sizeMib: number): Promise<Volume>;
  /** Grows a volume; shrinking is refused (it would cut off the guest's data). */
  resize(name: string, sizeMib: number): Promise<Volume>;
  remove(name: string): Promise<void>;
  /** Streams `body` into a new volume; `sizeBytes` (Content-Length) is checked against free space first. */
  upload(name: string, body: Readable, sizeBytes: number | null): Promise<Volume>;
}

function fsName(type: number): string {
  if (type === XFS_MAGIC) return "xfs";
  if (type === EXT4_MAGIC) return "ext4";
  if (type === TMPFS_MAGIC) return "tmpfs";
  return `0x${type.toString(16)}`;
}

export interface PoolOptions {
  /**
   * A mount point the pool must be on (the node's: /data). Without it mounted, nothing
   * is written: the directory would otherwise land in the RAM-backed root.
   */
  readonly requireMount?: string;
  /** mountinfo to read (default /proc/self/mountinfo). */
  readonly mountinfo?: string;
}

/** The pool in directory `dir` (created on first use). */
export function storagePool(dir: string, po: PoolOptions = {}): StoragePool {
  const check = (name: string): string => {
    const r = VolumeName.safeParse(name);
    if (!r.success) throw new VirtRequestError("name", r.error.issues[0]?.message ?? "invalid volume name");
    const p = join(dir, name);
    if (basename(p) !== name) throw new VirtRequestError("name", "invalid volume name");
    return p;
  };
  const ensureDir = async () => {
    if (po.requireMount) {
      const text = await fs.readFile(po.mountinfo ?? "/proc/self/mountinfo", "utf8").catch(() => "");
      if (!findMount(parseMountinfo(text), po.requireMount)) {
        throw new StorageError(409, `${po.requireMount} is not mounted (the QX_DATA partition is missing or failed to mount): no VM storage until it is; see GET /api/v1/health`);
      }
    }
    await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  };
  const describe = async (name: string): Promise<Volume | null> => {
    try {
      const st = await fs.stat(join(dir, name));
      if (!st.isFile()) return null;
      return { name, capacity_bytes: st.size, allocation_bytes: st.blocks * 512, format: name.toLowerCase().endsWith(".iso") ? "iso" : "raw" };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw e;
    }
  };
  const need = async (name: string): Promise<Volume> => {
    check(name);
    const v = await describe(name);
    if (!v) throw new VirtNotFoundError("volume", name, "see GET /api/v1/storage/volumes");
    return v;
  };
  const free = async () => {
    await ensureDir();
    const s = await fs.statfs(dir);
    return { type: s.type, capacity: s.blocks * s.bsize, available: s.bavail * s.bsize, used: (s.blocks - s.bfree) * s.bsize };
  };

  const pool: StoragePool = {
    dir,
    async info() {
      const [f, vols] = await Promise.all([free(), pool.list()]);
      return {
        path: dir,
        type: "dir",
        filesystem: fsName(f.type),
        capacity_bytes: f.capacity,
        available_bytes: f.available,
        used_bytes: f.used,
        provisioned_bytes: vols.reduce((n, v) => n + v.capacity_bytes, 0),
        volumes: vols.length,
      };
    },
    async list() {
      await ensureDir();
      const names = (await fs.readdir(dir)).filter((n) => VolumeName.safeParse(n).success).sort();
      const vols = await Promise.all(names.map(describe));
      return vols.filter((v): v is Volume => v !== null);
    },
    async get(name) {
      check(name);
      return describe(name);
    },
    path: check,
    async exists(name) {
      return (await describe(basename(check(name)))) !== null;
    },
    async create(name, sizeMib) {
      const p = check(name);
      const f = await free();
      if (sizeMib * MIB > f.capacity) throw new StorageError(507, `${sizeMib} MiB is more than the whole pool (${Math.floor(f.capacity / MIB)} MiB)`);
      let h: fs.FileHandle;
      try {
        h = await fs.open(p, "wx", 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "EEXIST") throw new VirtExistsError("volume", name);
        throw e;
      }
      try {
        await h.truncate(sizeMib * MIB);
      } catch (e) {
        await h.close();
        await fs.rm(p, { force: true });
        throw e;
      }
      await h.close();
      return need(name);
    },
    async resize(name, sizeMib) {
      const p = check(name);
      const v = await need(name);
      if (v.format === "iso") throw new StorageError(409, `${name} is an ISO image; it cannot be resized`);
      if (sizeMib * MIB < v.capacity_bytes) {
        throw new StorageError(409, `${name} is ${Math.ceil(v.capacity_bytes / MIB)} MiB; shrinking would cut off the guest's data (only growing is allowed)`);
      }
      await fs.truncate(p, sizeMib * MIB);
      return need(name);
    },
    async remove(name) {
      const p = check(name);
      await need(name);
      await fs.rm(p);
    },
    async upload(name, body, sizeBytes) {
      const p = check(name);
      if (await describe(name)) throw new VirtExistsError("volume", name);
      const f = await free();
      if (sizeBytes !== null && sizeBytes > f.available) {
        throw new StorageError(507, `the upload is ${Math.ceil(sizeBytes / MIB)} MiB but only ${Math.floor(f.available / MIB)} MiB are free in ${dir}`);
      }
      const partial = join(dir, `.${name}.${process.pid}.${Date.now()}.partial`);
      try {
        await pipeline(body, createWriteStream(partial, { flags: "wx", mode: 0o600 }));
        const st = await fs.stat(partial);
        if (sizeBytes !== null && st.size !== sizeBytes) throw new StorageError(409, `the upload ended after ${st.size} of ${sizeBytes} bytes; nothing was kept`);
        // link() fails when the name appeared meanwhile, where rename() would replace it.
        await fs.link(partial, p).catch((e: NodeJS.ErrnoException) => {
          throw e.code === "EEXIST" ? new VirtExistsError("volume", name) : e;
        });
      } finally {
        await fs.rm(partial, { force: true });
      }
      return need(name);
    },
  };
  return pool;
}
