/**
 * @module virt/domain-cache
 * Domain XML kept between two lists, so that listing N unchanged domains costs no
 * `dumpxml` (about a millisecond of libvirtd each). An entry is used only while the
 * domain's state is what it was when the XML was read, and is dropped by
 * {@link DomainCache.invalidate} (a libvirt event, or a change made through the
 * driver) or {@link DomainCache.clear} (the event stream broke).
 *
 * A read that overlaps a change must not store the old XML after the change was
 * reported: the caller takes a {@link DomainCache.ticket} before reading and
 * {@link DomainCache.store} refuses the XML when the domain (or everything) was
 * invalidated since that ticket.
 *
 * @example
 * ```ts
 * const t = cache.ticket();
 * const xml = cache.lookup("web-1", "running") ?? fetch("web-1");
 * cache.store(t, "web-1", "running", xml);
 * ```
 */

export class DomainCache {
  private readonly entries = new Map<string, { key: string; xml: string }>();
  private readonly changed = new Map<string, number>();
  private clearedAt = 0;
  private seq = 0;

  /** The XML stored for `name` under `key` (the domain's state), if any. */
  lookup(name: string, key: string): string | undefined {
    const e = this.entries.get(name);
    return e && e.key === key ? e.xml : undefined;
  }

  /** A mark to take before reading XML from libvirt, for {@link store}. */
  ticket(): number {
    return this.seq;
  }

  /** Keeps `xml` unless `name` (or everything) was invalidated after `ticket`. */
  store(ticket: number, name: string, key: string, xml: string): void {
    if (this.clearedAt > ticket || (this.changed.get(name) ?? 0) > ticket) return;
    this.entries.set(name, { key, xml });
  }

  /** Drops what is known about `name`. */
  invalidate(name: string): void {
    // Marks of past changes are kept for stores in flight; a node that churned through
    // thousands of names starts over instead.
    if (this.changed.size >= 10_000) {
      this.clear();
      return;
    }
    this.entries.delete(name);
    this.changed.set(name, ++this.seq);
  }

  /** Drops everything. */
  clear(): void {
    this.entries.clear();
    this.changed.clear();
    this.clearedAt = ++this.seq;
  }

  /** Drops entries of domains not in `names` (undefined since), keeping the cache the size of the node. */
  retain(names: ReadonlySet<string>): void {
    for (const n of this.entries.keys()) if (!names.has(n)) this.entries.delete(n);
  }

  get size(): number {
    return this.entries.size;
  }
}
