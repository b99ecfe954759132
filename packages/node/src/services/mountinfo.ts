/**
 * @module services/mountinfo
 * Parses `/proc/self/mountinfo` (see proc(5)): which filesystem is mounted where,
 * from which device, with which options.
 */

export interface MountEntry {
  readonly mountPoint: string;
  readonly fsType: string;
  readonly source: string;
  readonly options: readonly string[];
}

/** Undoes the kernel's octal escapes (`\040` for a space). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** Every mount, in the kernel's order (a later entry over the same point hides an earlier one). */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const parts = line.trim().split(" ");
    const dash = parts.indexOf("-");
    if (dash < 6 || parts.length < dash + 3) continue;
    out.push({
      mountPoint: unescapeOctal(parts[4] ?? ""),
      options: (parts[5] ?? "").split(","),
      fsType: parts[dash + 1] ?? "",
      source: unescapeOctal(parts[dash + 2] ?? ""),
    });
  }
  return out;
}

/** The mount visible at `mountPoint`, or undefined when it is not a mount point. */
export function findMount(entries: readonly MountEntry[], mountPoint: string): MountEntry | undefined {
  return entries.filter((e) => e.mountPoint === mountPoint).at(-1);
}
