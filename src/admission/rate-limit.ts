import { TokenBucket } from './token-bucket.js';

/** Per-client inbound rate limits (docs/security.md). Rates in units per second; Infinity: off. */
export interface RateLimits {
  readonly messagesPerSec: number;
  readonly messagesBurst: number;
  readonly bytesPerSec: number;
  readonly bytesBurst: number;
  /** More than this many refused messages within violationWindowMs closes the client with 1008. */
  readonly maxViolations: number;
  readonly violationWindowMs: number;
  /**
   * Inbound control frames (pings, and pongs that answer no heartbeat) per second and at once.
   * Unlike the rates above, on by default: a peer has no use for more, and each ping asks for a
   * pong. Beyond it the frame is dropped unanswered; past maxViolations, 1008.
   */
  readonly controlFramesPerSec: number;
  readonly controlFramesBurst: number;
  /**
   * `presence` queries per second and at once, on by default like control frames: each asks the
   * hub for an answer far larger than the query. Beyond: `rate_limited`; past maxViolations, 1008.
   */
  readonly presenceQueriesPerSec: number;
  readonly presenceQueriesBurst: number;
}

export type RateVerdict = 'ok' | 'limited' | 'close';

export const rateLimitsEnabled = (r: RateLimits): boolean =>
  r.messagesPerSec !== Number.POSITIVE_INFINITY || r.bytesPerSec !== Number.POSITIVE_INFINITY;

/** The limits of a control-frame limiter (its own bucket, the same violation rule), or none when unlimited. */
export const controlFrameLimits = (r: RateLimits): RateLimits | undefined =>
  r.controlFramesPerSec === Number.POSITIVE_INFINITY
    ? undefined
    : {
        ...r,
        messagesPerSec: r.controlFramesPerSec,
        messagesBurst: r.controlFramesBurst,
        bytesPerSec: Number.POSITIVE_INFINITY,
      };

/** The limits of a presence-query limiter, or none when unlimited. */
export const presenceQueryLimits = (r: RateLimits): RateLimits | undefined =>
  r.presenceQueriesPerSec === Number.POSITIVE_INFINITY
    ? undefined
    : {
        ...r,
        messagesPerSec: r.presenceQueriesPerSec,
        messagesBurst: r.presenceQueriesBurst,
        bytesPerSec: Number.POSITIVE_INFINITY,
      };

/**
 * One client's inbound limiter: a message bucket, a byte bucket, and a count of refusals in a
 * fixed window. `now` is a monotonic clock in ms (performance.now()).
 */
export class InboundRateLimiter {
  readonly #messages: TokenBucket;
  readonly #bytes: TokenBucket;
  #violations = 0;
  #windowStart = 0;

  constructor(
    readonly limits: RateLimits,
    now: number,
  ) {
    this.#messages = new TokenBucket(limits.messagesPerSec, limits.messagesBurst, now);
    this.#bytes = new TokenBucket(limits.bytesPerSec, limits.bytesBurst, now);
  }

  check(byteLength: number, now: number): RateVerdict {
    // Both buckets are charged only when both allow, so a refused message costs no tokens.
    if (this.#messages.take(1, now)) {
      if (this.#bytes.take(byteLength, now)) return 'ok';
      this.#messages.refund(1);
    }
    if (now - this.#windowStart > this.limits.violationWindowMs) {
      this.#windowStart = now;
      this.#violations = 0;
    }
    return ++this.#violations > this.limits.maxViolations ? 'close' : 'limited';
  }
}
