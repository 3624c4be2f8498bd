/**
 * Types of the client SDK's machines (machines/client-sdk.machine.ts): one connection actor per
 * `createClient()`, with one subscription actor per live `subscribe()` as its children. The
 * effects (sockets, timers of commands, handlers) are provided from src/client/.
 */

/** Why the last connection ended, as the socket reported it (1006: no close frame was received). */
export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
}

export interface ReconnectPolicy {
  /** Whether to reconnect at all after a loss. */
  readonly enabled: boolean;
  /** Backoff of the first retry: the wait is drawn from [0, min(maxDelayMs, minDelayMs · 2^attempt)] (full jitter). */
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
  /** A connection that stays up this long resets the backoff to its first step. */
  readonly stableAfterMs: number;
}

export interface SdkConnectionInput {
  readonly reconnect: ReconnectPolicy;
  /** Ping (the protocol's `ping` command) after this much quiet while connected; 0 = never. */
  readonly pingIntervalMs: number;
  /** A ping not answered within this is a dead connection: drop it and reconnect. */
  readonly pongTimeoutMs: number;
  /** Socket opened and `welcome` received within this, or the attempt counts as failed. */
  readonly connectTimeoutMs: number;
  /** Close codes after which retrying is pointless (auth refused, policy, protocol errors). */
  readonly terminalCodes: readonly number[];
  /** A number in [0, 1): Math.random in src/, fixed in tests. */
  readonly random: () => number;
}

export interface SdkConnectionContext extends SdkConnectionInput {
  /** Failed attempts since the last stable connection: the backoff's exponent. */
  readonly attempt: number;
  /** The wait chosen for the current backoff. */
  readonly delayMs: number;
  /** The id from the last `welcome`. */
  readonly id: string | undefined;
  readonly lastClose: CloseInfo | undefined;
  /** True once closed for a reason retrying cannot fix (a terminal code, or reconnect disabled). */
  readonly terminal: boolean;
}

export type SdkConnectionEvent =
  /** The hub's `welcome`: the connection is usable. */
  | { readonly type: 'connection.welcome'; readonly id: string }
  /** The socket is gone (close event; 1006 when it failed to open or died without a close frame). */
  | { readonly type: 'connection.socketClosed'; readonly code: number; readonly reason: string }
  /** The ack of the ping the machine asked for. */
  | { readonly type: 'connection.pong' }
  /** client.close(): no more reconnects. */
  | { readonly type: 'connection.close' }
  /** subscribe(): a new subscription actor, keyed by its topic. */
  | { readonly type: 'connection.addSubscription'; readonly topic: string }
  /** After its unsubscribe: the subscription actor is stopped. */
  | { readonly type: 'connection.removeSubscription'; readonly topic: string };

export interface SdkSubscriptionInput {
  readonly topic: string;
  /** Created while the connection is up: subscribe at once. */
  readonly connected: boolean;
}

/** What an ack of `subscribe` said: the stream's position and whether a `since` was honoured. */
export interface SubscribeAck {
  readonly result: unknown;
  readonly recovered: boolean | undefined;
}

export interface SubscriptionError {
  readonly code: string;
  readonly message: string;
}

export interface SdkSubscriptionContext {
  readonly topic: string;
  readonly startsConnected: boolean;
  readonly error: SubscriptionError | undefined;
}

export type SdkSubscriptionEvent =
  /** The connection was welcomed: (re)send `subscribe`. */
  | { readonly type: 'subscription.connected' }
  /** The connection dropped: the hub forgot this membership. */
  | { readonly type: 'subscription.disconnected' }
  | ({ readonly type: 'subscription.ack' } & SubscribeAck)
  | ({ readonly type: 'subscription.error' } & SubscriptionError)
  /** sub.unsubscribe(). */
  | { readonly type: 'subscription.unsubscribe' };

/** The id of a subscription actor among the connection's children. */
export const subscriptionActorId = (topic: string): string => `sub:${topic}`;
