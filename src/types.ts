/**
 * The hub's public types: its options and the handle createHub returns. A leaf module (types
 * only): the parts that need them (protocol, admission, server) import them from here rather
 * than from hub.ts or options.ts, so no import cycle runs through the hub.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { ActorRefFrom, InspectionEvent, Observer } from 'xstate';
import type { ClientId, OutboundLimits } from '../machines/client.types.js';
import type { HubMachine } from '../machines/hub.machine.js';
import type { HubCommand, Member, Settable, Topic } from '../machines/hub.types.js';
import type { OriginPolicy } from './admission/origin.js';
import type { TokenOptions, TokenSource } from './admission/auth-token.js';
import type { RateLimits } from './admission/rate-limit.js';
import type { Broker } from './cluster/broker/broker.js';
import type { ClusterStats } from './cluster/cluster.js';
import type { HistoryQuery, HistoryResult } from './history/read.js';
import type { HistoryStore } from './history/store.js';
import type { Logger } from './observability/logger.js';
import type { HubStats } from './observability/stats.js';
import type { TopicSchemas } from './protocol/topic-schemas.js';

/**
 * What a verified token grants a client (jwtAuth's verification, or your own): its id, its
 * presence metadata, when the grant ends and which topics it covers.
 */
export interface TokenGrant {
  readonly id?: ClientId | undefined;
  readonly meta?: unknown | undefined;
  /** When the token expires, ms since the epoch: the client is closed with 4001 then unless it sends `refresh`. */
  readonly expiresAt?: number | undefined;
  /** Topic names and `prefix*` patterns it may subscribe and publish to (others: `forbidden`); absent: any. */
  readonly topics?: readonly string[] | undefined;
}

/** What reauthenticate() answers for a `refresh`: the new token's grant, or why it was refused (`invalid_token`). */
export type Reauthentication = TokenGrant | { readonly error: string };

/** What authenticate() may answer: accept (optionally naming the client) or reject the upgrade. */
export type AuthResult =
  | true
  | undefined
  | void
  | (TokenGrant & { readonly limits?: Settable<OutboundLimits> | undefined })
  | false
  | { readonly reject: 401 | 403 | 429 | 503; readonly message?: string | undefined };

/** A connected client as user hooks see it. */
export interface ClientHandle {
  readonly id: ClientId;
  readonly meta: unknown;
  /** Queues a message for this client only (through the hub, like hub.send). */
  send(message: unknown, options?: { binary?: boolean | undefined }): void;
  /** Starts a closing handshake with this client. */
  close(code?: number, reason?: string): void;
}

/** Authorization for a topic: true allows; anything else refuses with a `forbidden` error frame. */
export type TopicHook = (client: ClientHandle, topic: string) => boolean | Promise<boolean>;

/** `json`: the typed JSON protocol (docs/protocol.md). `relay`: every message to every other client, unchanged. */
export type Protocol = 'json' | 'relay';

export interface TopicOptions {
  readonly maxTopicLength?: number | undefined;
  readonly maxTopicsPerClient?: number | undefined;
  /** Topic memberships the whole hub may hold (default 2,000,000); beyond it a subscribe gets `too_many_topics`. */
  readonly maxSubscriptions?: number | undefined;
  /** Unlimited unless set. */
  readonly maxMembersPerTopic?: number | undefined;
  /** Most members one `presence` answer lists; clients page with `cursor` (default 100). */
  readonly presencePageSize?: number | undefined;
}

/** A node's place in its cluster, without the broker (what the standalone server reads from its settings). */
export interface ClusterSettings {
  /** This node's id (generated when absent); letters, digits, '-' and '_'. */
  readonly nodeId?: string | undefined;
  /** Channel prefix: clusters sharing one Redis/NATS must differ (default 'actorhub'). */
  readonly prefix?: string | undefined;
  readonly heartbeatMs?: number | undefined;
  /** A node silent this long is dead; must exceed twice heartbeatMs. */
  readonly nodeTimeoutMs?: number | undefined;
  /** Largest broker message this node decodes, bytes (default 16 MiB); larger ones are dropped and counted. */
  readonly maxEnvelopeBytes?: number | undefined;
  /** Deepest nesting of message data and client metadata in a broker message (default 128). */
  readonly maxEnvelopeDepth?: number | undefined;
  /** A node's state (sync) is sent in broker messages of about this many bytes (default 256 KiB; capped at maxEnvelopeBytes). */
  readonly syncPartBytes?: number | undefined;
}

export interface ClusterOptionsInput extends ClusterSettings {
  /** The broker carrying messages between hub processes (memoryBroker, redisBroker, natsBroker). close() closes it. */
  readonly broker: Broker;
}

export interface ResolvedCluster {
  readonly nodeId: string;
  readonly prefix: string;
  readonly heartbeatMs: number;
  readonly nodeTimeoutMs: number;
  readonly maxEnvelopeBytes: number;
  readonly maxEnvelopeDepth: number;
  readonly syncPartBytes: number;
}

/** Per-topic history with offsets and epochs, and recovery on subscribe (docs/protocol.md#recovery). */
export interface HistoryOptions {
  /** Messages kept per topic; 0 (the default) turns history off. */
  readonly size?: number | undefined;
  /** How long a topic's stream lives after its last publish, ms. */
  readonly ttlMs?: number | undefined;
  /** Topics that keep history: exact names and `prefix*` patterns; absent or empty: every topic. */
  readonly topics?: readonly string[] | undefined;
  /** In-memory store: streams held at most (the least recently published is dropped beyond). */
  readonly maxStreams?: number | undefined;
  /** Your own store (src/history/store.ts); default: the bounded in-memory one. close() closes it. */
  readonly store?: HistoryStore | undefined;
}

export interface HubOptions {
  /** Per-topic history and recovery; off unless `size` > 0. */
  readonly history?: HistoryOptions | undefined;
  /** Run as one node of a cluster (docs/scaling.md); single-process when absent. */
  readonly cluster?: ClusterOptionsInput | undefined;
  /** What clients speak on the socket (default `json`). `onMessage` replaces either. */
  readonly protocol?: Protocol | undefined;
  readonly topics?: TopicOptions | undefined;
  /** Whether topic members receive `joined`/`left` frames: for every topic, or those the predicate picks. */
  readonly presenceEvents?: boolean | ((topic: string) => boolean);
  readonly canSubscribe?: TopicHook | undefined;
  readonly canPublish?: TopicHook | undefined;
  /**
   * Who may list a topic's members with `presence` besides its members (who always may). Unset:
   * nobody else (ids are what direct sends are addressed to). `() => true` opens presence to all.
   */
  readonly canSeePresence?: TopicHook | undefined;
  /**
   * A Standard Schema (effect/Schema via Schema.toStandardSchemaV1, zod, valibot) per topic name or
   * `prefix*` pattern: a client's publish whose data does not match gets `invalid_data` and reaches
   * no one. Checked after canPublish; publishes from your code and the HTTP API are trusted.
   */
  readonly topicSchemas?: TopicSchemas | undefined;
  /** More than maxBadFrames undecodable frames within badFrameWindowMs closes the client with 1008. */
  readonly maxBadFrames?: number | undefined;
  readonly badFrameWindowMs?: number | undefined;
  /** Commands one client may have waiting on asynchronous hooks; beyond, `overloaded` errors. */
  readonly maxPendingCommands?: number | undefined;
  /** Only this path upgrades; any other gets 404. */
  readonly path?: string | undefined;
  /** Largest inbound message in bytes; larger closes with 1009. */
  readonly maxPayload?: number | undefined;
  readonly maxClients?: number | undefined;
  /** Hub-wide outbound queue bounds and overflow policy (overridable per client by authenticate). */
  readonly outbound?: Settable<OutboundLimits> | undefined;
  readonly writeHighWaterBytes?: number | undefined;
  readonly pingIntervalMs?: number | undefined;
  readonly pongWaitMs?: number | undefined;
  readonly closeTimeoutMs?: number | undefined;
  readonly shutdownTimeoutMs?: number | undefined;
  readonly authTimeoutMs?: number | undefined;
  /** From the upgrade request to the registered client, authenticate() included; beyond: 408. */
  readonly handshakeTimeoutMs?: number | undefined;
  /** Open connections per client address (upgrading ones included); beyond: 429. Unlimited by default. */
  readonly maxConnectionsPerIp?: number | undefined;
  /** Proxies in front of the hub whose X-Forwarded-For is believed (default 0: ignored). */
  readonly trustProxy?: number | undefined;
  /** Per-client inbound rate limits (docs/security.md); off unless a rate is set. */
  readonly rateLimit?: Settable<RateLimits> | undefined;
  /** A static token list (compared in constant time), and where tokens may come from. Not with authenticate. */
  readonly auth?: (TokenOptions & { readonly tokens?: readonly string[] | undefined }) | undefined;
  readonly origins?: OriginPolicy | undefined;
  /**
   * Host names the hub answers (upgrades, and the standalone server's HTTP routes); others get
   * 403. Unset: any. `.example.com` allows the name and its subdomains; localhost and IP literals
   * always pass. Against DNS rebinding (docs/security.md).
   */
  readonly allowedHosts?: readonly string[] | undefined;
  readonly authenticate?: ((req: IncomingMessage) => AuthResult | Promise<AuthResult>) | undefined;
  /**
   * Verifies the token of a connected client's `refresh` command (docs/protocol.md#refresh). The
   * grant's expiry and topics replace the client's (its id must be the same; its meta is kept).
   * Unset: `authenticate.reauthenticate` when the hook has one (jwtAuth's does), else `refresh`
   * answers `refresh_unsupported`.
   */
  readonly reauthenticate?:
    ((client: ClientHandle, token: string) => Reauthentication | Promise<Reauthentication>) | undefined;
  /** Replaces the default relay (every message to every other client). */
  readonly onMessage?: (client: ClientHandle, data: string | Buffer, hub: Hub) => void | Promise<void>;
  /**
   * Called once if the hub actor fails (an exception supervision could not catch): by then every
   * client is being closed with 1011, upgrades get 503 and the node has left its cluster. Restart
   * the hub (or the process) from here. Exceptions inside hub actions do not get here: they are
   * caught, logged and counted in `stats.hubErrors` (docs/architecture.md#supervision).
   */
  readonly onFailure?: (error: unknown) => void;
  /**
   * Test seam: called with each hub action's name before it runs, and with `guard:<name>` before
   * each guard; what it throws is what a bug there would throw. Actions are supervised (caught),
   * guards are not (the actor fails). Never set it in production. See `parseFailpoint`.
   */
  readonly failpoint?: (site: string) => void;
  /** Passed to the root actor: `await startInspector()` (closed by hub.close()), @statelyai/inspect or any inspection observer. */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
  readonly generateId?: () => ClientId;
  readonly logger?: Logger | undefined;
}

export interface ResolvedOptions {
  /** Undefined on a single node. */
  readonly cluster: (ResolvedCluster & { readonly broker: ClusterOptionsInput['broker'] }) | undefined;
  readonly protocol: Protocol;
  /** size 0: history is off. */
  readonly history: {
    readonly size: number;
    readonly ttlMs: number;
    readonly topics: readonly string[] | undefined;
    readonly maxStreams: number;
  };
  readonly topics: {
    readonly maxTopicLength: number;
    readonly maxTopicsPerClient: number;
    readonly maxSubscriptions: number;
    readonly maxMembersPerTopic: number;
    readonly presencePageSize: number;
  };
  readonly presenceEvents: (topic: string) => boolean;
  readonly maxBadFrames: number;
  readonly badFrameWindowMs: number;
  readonly maxPendingCommands: number;
  readonly path: string;
  readonly maxPayload: number;
  readonly maxClients: number;
  readonly outbound: OutboundLimits;
  readonly writeHighWaterBytes: number;
  readonly pingIntervalMs: number;
  readonly pongWaitMs: number;
  readonly closeTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly authTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxConnectionsPerIp: number;
  readonly trustProxy: number;
  readonly rateLimit: RateLimits;
  readonly auth: {
    readonly tokens: readonly string[] | undefined;
    readonly from: readonly TokenSource[];
    readonly queryParam: string;
    readonly protocolPrefix: string;
  };
  readonly origins: OriginPolicy;
  readonly allowedHosts: readonly string[] | undefined;
}

/**
 * The hub's root actor as users hold it: snapshot, subscribe, inspect, and `send` for the
 * public commands only (HubCommand). Its snapshot's context is the machine's own state, not a
 * public API: read what you need through the Hub's methods (docs/api.md).
 */
export type HubActor = Omit<ActorRefFrom<HubMachine>, 'send'> & {
  send(command: HubCommand): void;
};

export interface ClientInfo {
  readonly id: ClientId;
  readonly meta: unknown;
  readonly connectedAt: number;
}

export interface CloseOptions {
  readonly code?: number | undefined;
  readonly reason?: string | undefined;
  readonly timeoutMs?: number | undefined;
}

export interface Hub {
  /** The root XState actor: send it HubCommands directly, subscribe to it, inspect it. */
  readonly actor: HubActor;
  readonly options: ResolvedOptions;
  readonly stats: Readonly<HubStats>;
  /** This hub's prom-client Registry (created on first read; values are read at scrape time). */
  readonly metrics: Registry;
  /** Registered clients. */
  readonly size: number;
  /** Topics with at least one member on this node. */
  readonly topicCount: number;
  /** Where the hub actor is: running, draining (close() called) or stopped. */
  readonly state: 'running' | 'draining' | 'stopped';
  /** Open connections (upgrading or upgraded) per client address, as the per-IP cap counts them (empty with no cap: nothing is counted). */
  connectionsByIp(): Map<string, number>;
  readonly closing: boolean;
  /** True once the hub actor has failed (docs/architecture.md#supervision): clients were closed with 1011, `/healthz` answers 503. */
  readonly failed: boolean;
  /** Handles every 'upgrade' of this server (other paths get 404). */
  attach(server: Server): void;
  /** For frameworks that hand over upgrades themselves. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void>;
  /** Strings and bytes are sent as they are, other values JSON-serialised once. */
  broadcast(message: unknown, options?: { except?: ClientId | undefined; binary?: boolean | undefined }): void;
  /** Returns whether the client was registered when the message was handed to the hub. */
  send(clientId: ClientId, message: unknown, options?: { binary?: boolean | undefined }): boolean;
  disconnect(clientId: ClientId, code?: number, reason?: string): boolean;
  /** Whether the client is connected to this node. */
  has(clientId: ClientId): boolean;
  /**
   * Whether a message for the client can be delivered: connected here or, in a cluster, on a
   * node this one hears from.
   */
  reachable(clientId: ClientId): boolean;
  /**
   * In a cluster, how many clients on the other nodes (those this node knows of) a publish to
   * `topic` — or, without a topic, a broadcast — goes to the broker for, `except` not counted:
   * the `forwarded` of a publish's answer. 0 on a single node.
   */
  forwardedTo(target?: { topic?: Topic | undefined; except?: ClientId | undefined }): number;
  /**
   * A connected client's id, metadata and connection time. Clients are reached only through
   * the hub (send, disconnect, subscribe by id): no reference to a client actor is handed out.
   */
  client(clientId: ClientId): ClientInfo | undefined;
  clients(): ClientInfo[];
  /** Whether the client (on this node) is a member of the topic. */
  isMember(clientId: ClientId, topic: Topic): boolean;
  /** Sends to every member of the topic (but `except`); returns the local recipient count at call time. */
  publish(
    topic: Topic,
    message: unknown,
    options?: { except?: ClientId | undefined; binary?: boolean | undefined },
  ): number;
  /**
   * Like publish, but resolves once the hub has handled it: local recipients and, for a topic
   * with history, the message's offset and the stream's epoch. Rejects with a PublishError
   * (`code` 'unavailable' when a history topic's store cannot take it: nothing was delivered).
   */
  publishConfirmed(
    topic: Topic,
    message: unknown,
    options?: { except?: ClientId | undefined },
  ): Promise<{
    delivered: number;
    forwarded?: number | undefined;
    offset?: number | undefined;
    epoch?: string | undefined;
  }>;
  /** A page of the topic's history (rejects with a HistoryError `no_history` for a topic without). */
  history(topic: Topic, query?: HistoryQuery): Promise<HistoryResult>;
  /** Whether the topic keeps history on this hub. */
  keepsHistory(topic: Topic): boolean;
  /** Joins a client to a topic from code (no canSubscribe check); refusals (limits) are logged. */
  subscribe(clientId: ClientId, topic: Topic): void;
  unsubscribe(clientId: ClientId, topic: Topic): void;
  /** Every topic with members, and how many. */
  topics(): { topic: Topic; members: number }[];
  /** Ids of the topic's members, on this node and (in a cluster) on the others. */
  members(topic: Topic): ClientId[];
  /** Who is in the topic, on this node and (in a cluster) on the others, with the metadata authenticate() returned. */
  presence(topic: Topic): Member[];
  /** This node, its broker's state and the nodes it hears from; undefined on a single node. */
  clusterStats(): ClusterStats | undefined;
  /** Stops upgrades, sends `code` (1001) to every client, terminates stragglers after timeoutMs. */
  close(options?: CloseOptions): Promise<void>;
}
