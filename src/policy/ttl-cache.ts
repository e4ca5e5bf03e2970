/**
 * A small cache of recent answers with a time to live and a size bound, so a flood to one
 * address costs one lookup per interval and a flood to many addresses cannot grow memory.
 * Time is src/deadline's monotonic clock (injectable for tests). All state is per instance.
 * Must not: know what it caches.
 */
import { monotonicMs } from '../deadline/deadline.js';

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = monotonicMs,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (this.now() >= e.until) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    this.entries.delete(key); // re-inserted last: Map order is insertion order, oldest first
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
  }

  get size(): number {
    return this.entries.size;
  }
}
