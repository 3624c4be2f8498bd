/**
 * Open connections per key (client address). Keys at zero are deleted, so the map holds only
 * addresses with a connection open: its size is bounded by the open sockets.
 */
export class ConnectionCount {
  readonly #counts = new Map<string, number>();

  /** Counts one more connection for `key` unless it already has `max`. */
  tryAcquire(key: string, max: number): boolean {
    const n = this.#counts.get(key) ?? 0;
    if (n >= max) return false;
    this.#counts.set(key, n + 1);
    return true;
  }

  release(key: string): void {
    const n = this.#counts.get(key) ?? 0;
    if (n <= 1) this.#counts.delete(key);
    else this.#counts.set(key, n - 1);
  }

  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  /** A copy: the live map is owned by the upgrade gate. */
  snapshot(): Map<string, number> {
    return new Map(this.#counts);
  }
}
