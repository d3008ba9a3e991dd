// The live view's memory: the newest `max` events, de-duplicated by id (a resumed stream may repeat a few).

/**
 * @template {{ id?: string }} T
 */
export class BoundedLog {
  constructor(max = 500) {
    this.max = max;
    /** @type {T[]} Oldest first. */
    this.entries = [];
    /** @type {Set<string>} */
    this.ids = new Set();
    this.total = 0;
  }

  /**
   * Adds an entry unless its id is already held; returns `{ added, dropped }` (dropped: entries pushed out, oldest first).
   * @param {T} entry
   * @returns {{ added: boolean, dropped: T[] }}
   */
  push(entry) {
    if (entry.id && this.ids.has(entry.id)) return { added: false, dropped: [] };
    this.entries.push(entry);
    if (entry.id) this.ids.add(entry.id);
    this.total += 1;
    const dropped = this.entries.length > this.max ? this.entries.splice(0, this.entries.length - this.max) : [];
    for (const old of dropped) if (old.id) this.ids.delete(old.id);
    return { added: true, dropped };
  }

  clear() {
    this.entries = [];
    this.ids.clear();
  }

  get size() {
    return this.entries.length;
  }
}
