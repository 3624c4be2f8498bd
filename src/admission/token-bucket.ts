/**
 * A token bucket refilled lazily from the caller's monotonic clock: O(1) per take, no timer.
 * `ratePerSec` Infinity makes a bucket that never refuses.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    readonly ratePerSec: number,
    readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes `n` tokens if there are that many (after refilling for the time since the last call). */
  take(n: number, nowMs: number): boolean {
    if (this.ratePerSec === Number.POSITIVE_INFINITY) return true;
    const elapsed = nowMs - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSec) / 1000);
      this.#last = nowMs;
    }
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Gives back tokens taken for something that did not happen after all. */
  refund(n: number): void {
    this.#tokens = Math.min(this.burst, this.#tokens + n);
  }
}
