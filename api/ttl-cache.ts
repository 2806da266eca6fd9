// Reads kept per process for a short time: what keys, accounts and provider credentials grant changes
// rarely, and a short life is how every API process sees a change within a second without messages.

/** Entries kept at most: misses are cached too, so a flood of forged ids cannot grow it past this. */
const MAX_ENTRIES = 10_000;

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: Promise<V>; until: number }>();
  constructor(private readonly ttlMs: number) {}

  get<T extends V>(id: string, load: () => Promise<T>, now = Date.now()): Promise<T> {
    const hit = this.entries.get(id);
    if (hit && hit.until > now) return hit.value as Promise<T>;
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    const value = load();
    this.entries.set(id, { value, until: now + this.ttlMs });
    // A failed read (PostgreSQL down) is not remembered: the next request asks again.
    value.catch(() => this.entries.delete(id));
    return value;
  }

  clear(): void {
    this.entries.clear();
  }
}
