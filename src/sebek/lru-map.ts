/**
 * A Map with string keys kept in least-recently-used order, for tables an intruder can fill (Sebek processes, line
 * buffers, clients). A plain Map used as an LRU (delete and set again, evict `keys().next()`) is slow here: V8 leaves
 * deleted entries in place until it rehashes, and iterating from the front skips all of them, so evicting at a limit
 * of 16,384 cost about 40 µs a record. This one links its entries in a list (O(1) use, add and evict).
 */
interface Entry<V> {
  key: string;
  value: V;
  older: Entry<V> | undefined;
  younger: Entry<V> | undefined;
}

export class LruMap<V> {
  private readonly map = new Map<string, Entry<V>>();
  private oldestEntry: Entry<V> | undefined;
  private youngestEntry: Entry<V> | undefined;

  get size(): number {
    return this.map.size;
  }

  has(key: string): boolean {
    return this.map.has(key);
  }

  /** The value, without making it young. */
  get(key: string): V | undefined {
    return this.map.get(key)?.value;
  }

  /** The value, made the most recently used. */
  use(key: string): V | undefined {
    const e = this.map.get(key);
    if (e === undefined) return undefined;
    if (e !== this.youngestEntry) {
      this.unlink(e);
      this.link(e);
    }
    return e.value;
  }

  /** Adds (or replaces) a value as the most recently used. */
  set(key: string, value: V): void {
    const old = this.map.get(key);
    if (old !== undefined) {
      old.value = value;
      this.use(key);
      return;
    }
    const e: Entry<V> = { key, value, older: undefined, younger: undefined };
    this.map.set(key, e);
    this.link(e);
  }

  delete(key: string): boolean {
    const e = this.map.get(key);
    if (e === undefined) return false;
    this.map.delete(key);
    this.unlink(e);
    return true;
  }

  /** Removes and returns the least recently used entry. */
  shift(): [string, V] | undefined {
    const e = this.oldestEntry;
    if (e === undefined) return undefined;
    this.delete(e.key);
    return [e.key, e.value];
  }

  clear(): void {
    this.map.clear();
    this.oldestEntry = undefined;
    this.youngestEntry = undefined;
  }

  /** Entries from the least to the most recently used. */
  *entries(): IterableIterator<[string, V]> {
    for (let e = this.oldestEntry; e !== undefined; e = e.younger) yield [e.key, e.value];
  }

  *values(): IterableIterator<V> {
    for (let e = this.oldestEntry; e !== undefined; e = e.younger) yield e.value;
  }

  [Symbol.iterator](): IterableIterator<[string, V]> {
    return this.entries();
  }

  private link(e: Entry<V>): void {
    e.older = this.youngestEntry;
    e.younger = undefined;
    if (this.youngestEntry !== undefined) this.youngestEntry.younger = e;
    else this.oldestEntry = e;
    this.youngestEntry = e;
  }

  private unlink(e: Entry<V>): void {
    if (e.older !== undefined) e.older.younger = e.younger;
    else this.oldestEntry = e.younger;
    if (e.younger !== undefined) e.younger.older = e.older;
    else this.youngestEntry = e.older;
    e.older = undefined;
    e.younger = undefined;
  }
}
