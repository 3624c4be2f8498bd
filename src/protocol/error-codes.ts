import type { HubErrorCode } from '../../machines/hub.types.js';

/**
 * Every `code` an `error` frame can carry. docs/protocol.md explains each; keep them in step.
 * The connection stays open after any of them (only the bad-frame threshold closes, with 1008).
 */
export type ProtocolErrorCode =
  | HubErrorCode
  /** The frame is not valid JSON. */
  | 'invalid_json'
  /** Valid JSON, but not an object with a known `type`. */
  | 'unknown_type'
  /** A known `type` with a missing or wrongly typed field (the message names the field). */
  | 'invalid_frame'
  /** A binary frame: this protocol is JSON text only. */
  | 'binary_not_supported'
  /** canSubscribe / canPublish refused, or the topic is not in the token's `topics` claim. */
  | 'forbidden'
  /** `refresh` with a token that does not verify (bad signature, expired, not yet valid, another client's). */
  | 'invalid_token'
  /** `refresh` on a hub that has no way to verify tokens (no reauthenticate, e.g. no JWT configured). */
  | 'refresh_unsupported'
  /** A publish whose data does not match its topic's schema (createHub({ topicSchemas })). */
  | 'invalid_data'
  /** Too many commands waiting on asynchronous authorization hooks. */
  | 'overloaded'
  /** `history` of a topic that keeps none (settings: history.size, history.topics). */
  | 'no_history'
  /** The client exceeded its inbound rate limit: the message was dropped (persisting closes with 1008). */
  | 'rate_limited'
  /** The hub failed while processing the command (a bug, logged and counted in hubErrors); the connection stays open. */
  | 'internal';
