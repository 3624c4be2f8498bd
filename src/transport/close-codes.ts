/**
 * Every WebSocket close code the hub sends (RFC 6455 §7.4; 4000–4999 are private use).
 * docs/errors.md explains each one; keep the two in step.
 */
export const CloseCode = {
  /** hub.disconnect / hub.unregister of a live client. */
  Normal: 1000,
  /** close() / SIGTERM, or a connection that arrived while the hub was draining. */
  GoingAway: 1001,
  /** Sent by ws: a text frame that is not valid UTF-8. */
  InvalidPayload: 1007,
  /** Reserved for protocol violations by policy (bad-frame threshold, rate limits). */
  PolicyViolation: 1008,
  /** Sent by ws: a message larger than maxPayload. */
  MessageTooBig: 1009,
  /** A user hook (onMessage) threw or rejected, or the client's actor failed. */
  InternalError: 1011,
  /** The hub is at maxClients (only when the upgrade-time check raced). */
  TryAgainLater: 1013,
  /** The client's token (authenticate()'s expiresAt, a JWT's exp) expired and no `refresh` came first. */
  TokenExpired: 4001,
  /** The client's outbound queue overflowed under the `close` policy. */
  SlowConsumer: 4008,
  /** The authenticate() hook returned an id that is already connected (only if the upgrade-time check raced). */
  DuplicateId: 4009,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
