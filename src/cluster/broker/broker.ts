/**
 * A Broker carries opaque messages between hub processes. It is the whole contract an engine
 * (Redis pub/sub, NATS, an in-process bus) must meet; everything else — local dispatch,
 * topics, presence — stays in the hub (the Phoenix.PubSub shape).
 *
 * Guarantees every implementation gives (and test/support/broker-conformance.ts checks):
 * - **At-most-once**: a message reaches each subscribed node once or not at all. Nothing is
 *   stored: a node not subscribed when a message is published never sees it.
 * - **Order per publisher per channel**: two messages published by one node on one channel
 *   arrive at every subscriber in that order.
 * - **No self-delivery**: a node never receives what it published itself.
 * - **While the connection is down**: `publish` never throws and never blocks; what cannot
 *   be sent is dropped and counted in `dropped` (never queued without bound). The client
 *   reconnects with backoff and restores subscriptions; `state` and `onState` tell.
 */
export type BrokerState = 'connecting' | 'up' | 'down' | 'closed';

export interface Broker {
  /** Which engine: 'memory' | 'redis' | 'nats'. */
  readonly kind: string;
  readonly state: BrokerState;
  /** Messages this node could not hand to the engine (the connection was down). */
  readonly dropped: number;
  publish(channel: string, payload: string): void;
  /** Idempotent; takes effect asynchronously (use `ready()` to wait for it). */
  subscribe(channel: string): void;
  unsubscribe(channel: string): void;
  /** The one handler for every subscribed channel. */
  onMessage(handler: (channel: string, payload: string) => void): void;
  onState(handler: (state: BrokerState) => void): void;
  /**
   * Resolves once every subscribe/unsubscribe issued so far is in effect on the server, and
   * (while up) after every message the server sent this node before the call has been handed to
   * onMessage: history uses it as a fence between a store's read and its notifications.
   */
  ready(): Promise<void>;
  close(): Promise<void>;
}
