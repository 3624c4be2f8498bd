import type { ActorRefFrom } from 'xstate';
import type { Connection } from './connection.js';
import type { ClientMachine } from './client.machine.js';
import type {
  BadFrameLimit,
  ClientId,
  Departure,
  Frame,
  OutboundLimits,
  TopicGrant,
  Writer,
  WriterInput,
} from './client.types.js';
import type { NodeId, RemoteDirectory } from './remote-directory.js';
import type { Member, Topic, TopicIndex } from './topic-index.js';

export type { NodeId } from './remote-directory.js';

/**
 * What the hub tells the rest of its cluster (src/cluster turns these into broker messages).
 * Only events that started on this node are forwarded; hub.remote.* events never are.
 */
export type ClusterOut =
  | { kind: 'broadcast'; data: unknown; binary?: boolean | undefined; except?: ClientId | undefined }
  | {
      kind: 'publish';
      topic: Topic;
      data: unknown;
      binary?: boolean | undefined;
      except?: ClientId | undefined;
      from?: ClientId | undefined;
    }
  | {
      kind: 'send';
      node: NodeId;
      to: ClientId;
      data: unknown;
      binary?: boolean | undefined;
      from?: ClientId | undefined;
    }
  | { kind: 'clientUp'; id: ClientId; meta: unknown }
  | { kind: 'clientDown'; id: ClientId }
  | { kind: 'joined'; topic: Topic; id: ClientId; meta: unknown }
  | { kind: 'left'; topic: Topic; id: ClientId }
  /** The first local member joined: start receiving the topic's traffic. */
  | { kind: 'topicOpened'; topic: Topic }
  /** The last local member left: stop receiving it. */
  | { kind: 'topicClosed'; topic: Topic };

export type { Member, Topic } from './topic-index.js';

/**
 * An options bag where every field may be left out or passed as `undefined` (both mean "use the
 * default"): `Partial` under `exactOptionalPropertyTypes` would refuse the explicit `undefined`
 * that callers forwarding their own optional values naturally pass.
 */
export type Settable<T> = { [K in keyof T]?: T[K] | undefined };

/** A client's correlation id for a command; the answer carries it back. */
export type Ref = string | number;

/** Why the hub refused a command (the error frame's `code`; see docs/protocol.md). */
export type HubErrorCode =
  | 'invalid_topic'
  | 'too_many_topics'
  | 'topic_full'
  | 'unknown_client'
  | 'encode_failed'
  /** A publish into a history topic could not be stored (the store is unreachable): not delivered. */
  | 'unavailable'
  /** A command with a ref that reached the hub while it was draining (close(), SIGTERM). */
  | 'shutting_down';

/** Where a stream stands: its epoch (changes when continuity is lost) and its newest offset (0: none yet). */
export interface StreamPosition {
  readonly epoch: string;
  /** The offset of the newest message; 0 before the first. */
  readonly offset: number;
}

/** One kept message as the hub replays it; `data` is opaque to the machine (the frames builder reads it). */
export interface HistoryMessage {
  readonly offset: number;
  readonly from?: ClientId | undefined;
  readonly data: unknown;
}

export interface HistoryRead extends StreamPosition {
  /** Offset of the oldest message still kept (offset + 1 when none is). */
  readonly first: number;
  readonly messages: readonly HistoryMessage[];
}

/**
 * Per-topic history as the hub machine uses it (src/history adapts a synchronous store to
 * this). Every call answers at once, inside the hub's current step: that is what makes the
 * replay/live seam atomic on one node (no publish can come between a replay and going live).
 */
export interface HubHistory {
  /** Messages kept per topic: the most a replay can hold. */
  readonly size: number;
  /**
   * true (one node, in-memory store): append/position/read answer inside the hub's step. false (a
   * cluster over a shared store): appendAsync/readAsync answer later, through hub.history.* events.
   */
  readonly synchronous: boolean;
  /**
   * Cluster: stores the message; the store itself notifies every node (this one too) with its
   * offset, and that notification is what gets delivered. `done` is called once.
   */
  appendAsync?(
    topic: Topic,
    data: unknown,
    from: ClientId | undefined,
    except: ClientId | undefined,
    done: (result: HistoryAppendResult) => void,
  ): void;
  /**
   * Cluster: once this node receives the topic's notifications (its channel subscription is in
   * effect), reads the messages after `after` (undefined: the position only). `done` is called once.
   */
  readAsync?(topic: Topic, after: number | undefined, done: (result: HistoryReadResult) => void): void;
  /** Whether the topic keeps history (settings: history.topics). */
  covers(topic: Topic): boolean;
  /** Stores a message and returns its position; throws when it cannot be stored. `data` in the result is what to frame. */
  append(topic: Topic, data: unknown, from: ClientId | undefined): StreamPosition & { readonly data: unknown };
  position(topic: Topic): StreamPosition;
  /** Messages after `after` (oldest first, at most `limit`). */
  read(topic: Topic, after: number, limit: number): HistoryRead;
}

export type HistoryAppendResult = StreamPosition | { readonly error: HubErrorCode; readonly message: string };
export type HistoryReadResult = HistoryRead | { readonly error: HubErrorCode; readonly message: string };

/** A live message held for a subscriber whose recovery read is in flight (cluster). */
export interface HeldMessage {
  readonly offset: number;
  readonly frame: Frame;
}

/**
 * What is held for one subscriber while its read is in flight: the newest live messages, at most
 * the history size, oldest first. `dropped`: the newest offset let go to keep that bound (0:
 * none), so that its ack can name a position from which live continues without a gap.
 */
export interface Held {
  readonly messages: HeldMessage[];
  dropped: number;
}

/** What a publish from code learns (hub.publishConfirmed): local recipients and, for a history topic, the offset. */
export type PublishOutcome =
  | {
      readonly delivered: number;
      readonly forwarded?: number | undefined;
      readonly offset?: number | undefined;
      readonly epoch?: string | undefined;
    }
  | { readonly error: HubErrorCode; readonly message: string };

export interface TopicLimits {
  readonly maxTopicLength: number;
  readonly maxTopicsPerClient: number;
  /** Memberships the whole hub may hold (a memory bound: clients × topics per client is far more). */
  readonly maxSubscriptions: number;
  /** Infinity when unlimited. */
  readonly maxMembersPerTopic: number;
  /** Most members one presence answer lists (a client pages through the rest with its cursor). */
  readonly presencePageSize: number;
}

/**
 * How the hub turns what it sends into frames: once per message, whatever the recipient
 * count. src/ provides the JSON protocol's envelopes or the relay's raw messages; a method
 * returning undefined means "this protocol has no such frame".
 */
export interface OutboundFrames {
  welcome(id: ClientId): Frame | undefined;
  message(
    data: unknown,
    binary: boolean | undefined,
    topic: Topic | undefined,
    from: ClientId | undefined,
    offset?: number,
    /** The stream's epoch beside its offset: a client holding another epoch knows continuity was lost. */
    epoch?: string,
  ): Frame;
  /** Several frames as few writes (a replay): each returned frame is a run of whole frames. */
  batch?(frames: readonly Frame[]): Frame[];
  joined(topic: Topic, member: Member): Frame | undefined;
  left(topic: Topic, member: Member): Frame | undefined;
  ack(ref: Ref, result: unknown): Frame | undefined;
  error(ref: Ref | undefined, code: string, message: string): Frame | undefined;
}

export type ClientRef = ActorRefFrom<ClientMachine>;

/** One registry entry. The registry (a Map in the hub's context) is owned by the hub actor. */
export interface ClientEntry {
  readonly ref: ClientRef;
  /** The client's write loop, owned by the client actor. The hot path sends here. */
  readonly writer: Writer;
  readonly meta: unknown;
  readonly connectedAt: number;
}

export interface HubInput {
  readonly clientLogic: ClientMachine;
  /** Builds a client's writer over its connection (src/transport/client-writer.ts); the client starts it. */
  readonly createWriter: (input: WriterInput) => Writer;
  readonly frames: OutboundFrames;
  readonly topicLimits: TopicLimits;
  /** Whether members of a topic receive joined/left frames. */
  readonly presenceEvents: (topic: Topic) => boolean;
  /** Hands what other nodes must know to the cluster; a no-op on a single node. */
  readonly forward: (out: ClusterOut) => void;
  /** Per-topic history with offsets; absent: every topic is at-most-once, as before. */
  readonly history?: HubHistory | undefined;
  readonly limits: OutboundLimits;
  readonly maxClients: number;
  readonly pingIntervalMs: number;
  readonly pongWaitMs: number;
  readonly badFrames: BadFrameLimit;
  readonly shutdownTimeoutMs: number;
  /**
   * An inspector is attached: at shutdown each client takes its close as a step of its own
   * machine (client.shutdown), which costs ~2× the CPU of the quiet path at 50k clients.
   */
  readonly watched?: boolean | undefined;
}

export interface ShutdownRequest {
  readonly code: number;
  readonly reason: string;
  readonly timeoutMs: number;
}

export interface HubContext extends HubInput {
  readonly clients: Map<ClientId, ClientEntry>;
  /** Mirrors clients.size: the Map is mutated in place, which select()/Object.is cannot see. */
  readonly count: number;
  readonly topics: TopicIndex;
  readonly remote: RemoteDirectory;
  /** Mirrors topics.topicCount, for the same reason as count. */
  readonly topicCount: number;
  readonly shutdown: ShutdownRequest;
  /**
   * Cluster with history: subscribers whose recovery read is in flight, by topic, with the live
   * messages held for them meanwhile.
   */
  readonly recovering: Map<Topic, Map<ClientId, Held>>;
}

export type HubRegisterEvent = {
  type: 'hub.register';
  id: ClientId;
  connection: Connection;
  meta?: unknown | undefined;
  /** Per-client override of the hub's outbound limits and overflow policy. */
  limits?: Settable<OutboundLimits> | undefined;
  /** When its token expires (ms since the epoch): closed with 4001 then, unless it refreshes. */
  expiresAt?: number | undefined;
  /** The topics its token allows (subscribe, publish); undefined: any. */
  topics?: TopicGrant | undefined;
};

/**
 * What users may send the hub (`hub.actor.send(...)`, or the handle's methods that wrap these):
 * commands about clients and topics, and shutdown. Everything else the hub takes is internal.
 */
export type HubCommand =
  | { type: 'hub.unregister'; id: ClientId }
  | { type: 'hub.broadcast'; data: unknown; binary?: boolean | undefined; except?: ClientId | undefined }
  | {
      type: 'hub.send';
      to: ClientId;
      data: unknown;
      binary?: boolean | undefined;
      from?: ClientId | undefined;
      ref?: Ref | undefined;
    }
  | { type: 'hub.subscribe'; id: ClientId; topic: Topic; ref?: Ref | undefined; since?: StreamPosition | undefined }
  | { type: 'hub.unsubscribe'; id: ClientId; topic: Topic; ref?: Ref | undefined }
  | {
      type: 'hub.publish';
      topic: Topic;
      data: unknown;
      binary?: boolean | undefined;
      except?: ClientId | undefined;
      from?: ClientId | undefined;
      ref?: Ref | undefined;
      /** Called once with the outcome (hub.publishConfirmed, the HTTP API). */
      reply?: ((outcome: PublishOutcome) => void) | undefined;
    }
  | {
      type: 'hub.presence';
      id: ClientId;
      topic: Topic;
      ref?: Ref | undefined;
      /** At most this many members (capped by presencePageSize), after the member id `cursor`. */
      limit?: number | undefined;
      cursor?: ClientId | undefined;
    }
  | { type: 'hub.disconnect'; id: ClientId; code?: number | undefined; reason?: string | undefined }
  | { type: 'hub.shutdown'; code?: number | undefined; reason?: string | undefined; timeoutMs?: number | undefined };

/**
 * Events only the hub's own parts send: the upgrade gate (register: it owns the socket), the
 * hub's timer and departure queue, failures, and the cluster link (hub.remote.*).
 */
export type HubInternalEvent =
  | HubRegisterEvent
  | HubRemoteEvent
  | { type: 'hub.sweep'; now: number }
  /** From the hub's own departure queue: clients whose socket closed, in bulk. */
  | { type: 'hub.departed'; departures: readonly Departure[] }
  /** Cluster with history: a publish's append answered (from the hub's own HubHistory.appendAsync). */
  | {
      type: 'hub.history.appended';
      topic: Topic;
      from?: ClientId | undefined;
      except?: ClientId | undefined;
      ref?: Ref | undefined;
      reply?: ((outcome: PublishOutcome) => void) | undefined;
      result: HistoryAppendResult;
    }
  /** Cluster with history: a subscriber's recovery read answered (from HubHistory.readAsync). */
  | {
      type: 'hub.history.read';
      id: ClientId;
      topic: Topic;
      ref?: Ref | undefined;
      since?: StreamPosition | undefined;
      result: HistoryReadResult;
    }
  | { type: 'hub.failed'; during: string; error: unknown };

/** Every event the hub machine takes. */
export type HubEvent = HubCommand | HubInternalEvent;

/** What other nodes of the cluster did, as the cluster adapter reports it. Local delivery only. */
export type HubRemoteEvent =
  | { type: 'hub.remote.broadcast'; data: unknown; binary?: boolean | undefined; except?: ClientId | undefined }
  | {
      type: 'hub.remote.publish';
      topic: Topic;
      data: unknown;
      binary?: boolean | undefined;
      except?: ClientId | undefined;
      from?: ClientId | undefined;
      /** Set by the history store's notification (cluster with history): the message's offset and epoch. */
      offset?: number | undefined;
      epoch?: string | undefined;
    }
  | { type: 'hub.remote.send'; to: ClientId; data: unknown; binary?: boolean | undefined; from?: ClientId | undefined }
  | { type: 'hub.remote.clientUp'; node: NodeId; id: ClientId; meta: unknown }
  | { type: 'hub.remote.clientDown'; id: ClientId }
  | { type: 'hub.remote.joined'; node: NodeId; topic: Topic; id: ClientId; meta: unknown }
  | { type: 'hub.remote.left'; topic: Topic; id: ClientId }
  | {
      type: 'hub.remote.sync';
      node: NodeId;
      clients: readonly (readonly [ClientId, unknown])[];
      joins: readonly (readonly [Topic, ClientId])[];
    }
  | { type: 'hub.remote.nodeDown'; node: NodeId };
