/**
 * Errors the SDK rejects with: `.code` is the protocol's error code (docs/protocol.md) when the
 * hub refused the command, or one of the SDK's own codes below.
 */
export class ClientError extends Error {
  override readonly name = 'ClientError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The SDK's own codes (the hub's are in docs/protocol.md). */
export const ClientErrorCode = {
  /** The command was sent, and the connection dropped before its answer: it may or may not have run; never resent. */
  Disconnected: 'disconnected',
  /** No answer within ackTimeoutMs (queued time included). */
  Timeout: 'timeout',
  /** The offline queue holds maxQueuedCommands already. */
  QueueFull: 'queue_full',
  /** client.close() was called, or the hub closed with a code that stops reconnects. */
  Closed: 'closed',
  /** The command's JSON is larger than the hub's maxPayload (from `welcome`): the hub would close with 1009. */
  TooLarge: 'too_large',
  /** subscribe() to a topic this client already has a subscription to. */
  AlreadySubscribed: 'already_subscribed',
  /** A subscription handler or a listener threw (reported on client.on('error'); delivery goes on). */
  HandlerFailed: 'handler_failed',
  /** A frame from the hub that is not JSON. */
  BadFrame: 'bad_frame',
  /** The command's data has no JSON form (a cycle, a BigInt): refused when issued, nothing sent. */
  EncodeFailed: 'encode_failed',
  /** The `token` function threw or rejected (client.on('error')): that attempt fails, the backoff goes on. */
  TokenFailed: 'token_failed',
  /**
   * client.on('error'): a WebSocket could not be created (a token a subprotocol cannot carry), or
   * CLIENT_CONNECT_FAILURES_REPORTED attempts in a row closed before the socket opened; the backoff goes on.
   */
  ConnectFailed: 'connect_failed',
} as const;

/**
 * Close codes after which reconnecting is pointless, so the client goes to `closed`:
 * 1000 (the server ended this session on purpose: hub.disconnect), 1002/1003/1007/1009/1010
 * (protocol errors: the same client would hit them again), 1008 (policy: bad frames, rate limit),
 * 4009 (duplicate id). 4401 and 4403 are not sent by any hub: the SDK reports a handshake refused
 * with HTTP 401/403 under them, where it can see the status (Node's `ws`; browsers hide it and
 * report 1006, so a browser keeps retrying a refused token with backoff).
 */
export const TERMINAL_CLOSE_CODES: readonly number[] = [1000, 1002, 1003, 1007, 1008, 1009, 1010, 4009, 4401, 4403];
