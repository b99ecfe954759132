/**
 * @module bios-boot
 * Installs GRUB for legacy BIOS on a GPT disk without `grub-bios-setup` (which the
 * node image does not carry): `boot.img` goes into the MBR's code area and `core.img`
 * into the BIOS boot partition, patched as grub-bios-setup patches them
 * (GRUB's util/setup.c): boot.img learns core.img's first sector, and core.img's
 * first blocklist (the end of its first sector) names the rest.
 */
import { LayoutError } from "../errors.ts";
import { SECTOR } from "../layout.ts";

// Offsets from GRUB's include/grub/i386/pc/boot.h.
const KERNEL_SECTOR = 0x5c;
const BOOT_DRIVE = 0x64;
const DRIVE_CHECK = 0x66;
const WINDOWS_NT_MAGIC = 0x1b8; // disk signature, partition table and 0x55AA stay the disk's
/** Segment core.img's second sector is loaded at (GRUB_BOOT_I386_PC_KERNEL_SEG + 0x20). */
const CORE_SEGMENT = 0x820;
const BLOCKLIST_SIZE = 12; // u64 start, u16 len, u16 segment

export interface BiosBootImages {
  /** 512 bytes for sector 0: GRUB's boot code + the disk's own partition table. */
  readonly mbr: Buffer;
  /** core.img patched for `firstSector`, padded to whole sectors. */
  readonly core: Buffer;
}

/**
 * Patches `bootImg` (GRUB's 512-byte boot.img) and `coreImg` (from grub-mkimage -O
 * i386-pc) for a core.img written at `firstSector`, keeping `currentMbr`'s partition
 * table. Throws LayoutError when core.img does not fit in `maxSectors`.
 */
export function patchBiosBoot(bootImg: Buffer, coreImg: Buffer, currentMbr: Buffer, firstSector: number, maxSectors: number): BiosBootImages {
  if (bootImg.length !== SECTOR) throw new LayoutError(`boot.img must be ${SECTOR} bytes, got ${bootImg.length}`);
  if (currentMbr.length < SECTOR) throw new LayoutError("the disk's first sector could not be read");
  if (coreImg.length < SECTOR) throw new LayoutError("core.img is too small");
  const sectors = Math.ceil(coreImg.length / SECTOR);
  if (sectors > maxSectors) {
    throw new LayoutError(`core.img needs ${sectors} sectors but the BIOS boot partition has ${maxSectors}`, {
      hint: "embed fewer GRUB modules",
    });
  }
  const mbr = Buffer.from(bootImg);
  currentMbr.copy(mbr, WINDOWS_NT_MAGIC, WINDOWS_NT_MAGIC, SECTOR);
  mbr.writeBigUInt64LE(BigInt(firstSector), KERNEL_SECTOR);
  mbr[BOOT_DRIVE] = 0xff;
  mbr[DRIVE_CHECK] = 0x90;
  mbr[DRIVE_CHECK + 1] = 0x90;

  const core = Buffer.alloc(sectors * SECTOR);
  coreImg.copy(core);
  // Clear the default blocklists down to the terminator, then write one block.
  const first = SECTOR - BLOCKLIST_SIZE;
  for (let at = first; at >= 0; at -= BLOCKLIST_SIZE) {
    const len = core.readUInt16LE(at + 8);
    core.fill(0, at, at + BLOCKLIST_SIZE);
    if (len === 0) break;
  }
  core.writeBigUInt64LE(BigInt(firstSector + 1), first);
  core.writeUInt16LE(sectors - 1, first + 8);
  core.writeUInt16LE(CORE_SEGMENT, first + 10);
  return { mbr, core };
}
