import type { ActorRefFrom, AnyActorRef } from 'xstate';
import type { Connection, Frame } from './connection.js';

export type { Frame } from './connection.js';

export type ClientId = string;

/** What a client's writer does when its outbound queue is full. */
export type OverflowPolicy = 'close' | 'drop-oldest' | 'drop-newest';

/** Bounds on one client's outbound queue (frames not yet handed to the socket). */
export interface OutboundLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly policy: OverflowPolicy;
}

/** Which topics a client's token lets it subscribe and publish to (a JWT's `topics` claim); absent: any. */
export type TopicGrant = (topic: string) => boolean;

export interface ClientInput {
  readonly id: ClientId;
  readonly meta: unknown;
  /** What its token allows; undefined: every topic (the hooks still decide). */
  readonly topics?: TopicGrant | undefined;
  /** The client's write loop over its socket, built by the hub for this client only; the client starts it. */
  readonly writer: Writer;
  /** The outbound limits its writer applies (shared with the hub's unless overridden for this client). */
  readonly limits: OutboundLimits;
  readonly badFrames: BadFrameLimit;
  /** The hub's departure queue: where the client reports that its socket is gone. */
  readonly departures: DeparturesRef;
}

/** A client whose socket is gone, as it reports itself: its ref tells it from a later client with the same id. */
export interface Departure {
  readonly id: ClientId;
  readonly ref: AnyActorRef;
}

/** The hub's departure queue (an actor of the hub's): collects departures, hands them to the hub in bulk. */
export interface DeparturesRef {
  send(event: { type: 'departures.add' } & Departure): void;
}

/** More than `max` bad frames within `windowMs` closes the client with 1008. */
export interface BadFrameLimit {
  readonly max: number;
  readonly windowMs: number;
}

export interface ClientContext extends ClientInput {
  /** Bad frames counted in the current window, and when that window started. */
  readonly badFrameCount: number;
  readonly badFrameWindowStart: number;
}

/** Events the hub and the client's own writer send to the client machine. */
export type ClientEvent =
  | { type: 'client.socketMessage'; data: Buffer; binary: boolean }
  | { type: 'client.socketClosed'; code: number; reason: string }
  | { type: 'client.overflowed'; code: number; reason: string }
  /** The writer terminated a peer silent for longer than pongWaitMs (no close frame: 1006). */
  | { type: 'client.timedOut'; code: number; reason: string }
  /** The writer closed the socket with 1008: the client kept exceeding its inbound rate limit. */
  | { type: 'client.rateLimited'; code: number; reason: string }
  | { type: 'client.close'; code: number; reason: string }
  | { type: 'client.terminate' }
  /** The hub is draining (close(), SIGTERM): close with the shutdown's code (1001) and reason. */
  | { type: 'client.shutdown'; code: number; reason: string }
  /** An answer for this client only (ack, error), from its own protocol handler. */
  | { type: 'client.reply'; frame: Frame }
  /** The protocol handler rejected a frame from this client. */
  | { type: 'client.badFrame'; now: number }
  /** The writer closed the socket with 4001: the client's token expired before a refresh. */
  | { type: 'client.tokenExpired'; code: number; reason: string }
  /** A `refresh` verified a new token: its expiry (ms since the epoch; undefined: none) and topics. */
  | { type: 'client.refreshed'; expiresAt: number | undefined; topics: TopicGrant | undefined };

/**
 * Events the writer (the client's write loop) accepts. `writer.deliver` and
 * `writer.heartbeat` come straight from the hub: they are the hot path and must not pay a
 * machine transition per recipient (docs/decisions/0001-xstate-facts.md, fact 3).
 */
export type WriterEvent =
  | { type: 'writer.deliver'; frame: Frame }
  | { type: 'writer.heartbeat'; now: number }
  | { type: 'writer.close'; code: number; reason: string }
  | { type: 'writer.terminate' }
  /** The token now expires at this time (ms since the epoch); undefined: never. Replaces the previous expiry. */
  | { type: 'writer.expireAt'; at: number | undefined };

export interface WriterInput {
  readonly id: ClientId;
  readonly connection: Connection;
  readonly limits: OutboundLimits;
  /** A client silent (no pong, no message) for longer than this is terminated. */
  readonly pongWaitMs: number;
  /** When its token expires (ms since the epoch): the writer closes it with 4001 then. Undefined: never. */
  readonly expiresAt?: number | undefined;
}

/** Where a writer reports what happened on its socket: its own client actor. */
export interface WriterOwner {
  send(event: ClientEvent): void;
}

/**
 * A client's write loop (src/transport/client-writer.ts): the only code that writes to its socket. A plain
 * object owned by the client actor rather than a child actor: a second actor per client cost
 * ~2 KiB and a mailbox hop per delivery (docs/performance.md). The hub calls `send` on the hot
 * path; the client machine starts it on entry and sends it writer.close / writer.terminate.
 */
export interface Writer {
  /** Starts listening to the socket; what it hears goes to `owner`. Called once, by the client. */
  start(owner: WriterOwner): void;
  send(event: WriterEvent): void;
  /** The client actor died (it threw) with its socket still open: stop listening and destroy it. */
  dispose(): void;
  /**
   * Shutdown: the hub has closed this socket and takes its last report (`client.socketClosed`)
   * itself, so the client does not step through `closed` on its way out (see closeAll).
   */
  handOver(owner: WriterOwner): void;
}

export type { ActorRefFrom };
