import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { InspectionEvent, Observer } from 'xstate';
import type { ClientId, OutboundLimits, OverflowPolicy } from '../machines/client.types.js';
import { HubConfigError } from './errors.js';
import * as L from './limits.js';
import type { Logger } from './observability/logger.js';
import type { OriginPolicy } from './admission/origin.js';
import type { Hub } from './hub.js';
import type { TokenOptions, TokenSource } from './admission/auth-token.js';
import type { TopicSchemas } from './protocol/topic-schemas.js';
import type { RateLimits } from './admission/rate-limit.js';

/** What authenticate() may answer: accept (optionally naming the client) or reject the upgrade. */
export type AuthResult =
  | true
  | undefined
  | void
  | { readonly id?: ClientId; readonly meta?: unknown; readonly limits?: Partial<OutboundLimits> }
  | false
  | { readonly reject: 401 | 403 | 429 | 503; readonly message?: string };

/** A connected client as user hooks see it. */
export interface ClientHandle {
  readonly id: ClientId;
  readonly meta: unknown;
  /** Queues a message for this client only (through the hub, like hub.send). */
  send(message: unknown, options?: { binary?: boolean }): void;
  /** Starts a closing handshake with this client. */
  close(code?: number, reason?: string): void;
}

/** Authorization for a topic: true allows; anything else refuses with a `forbidden` error frame. */
export type TopicHook = (client: ClientHandle, topic: string) => boolean | Promise<boolean>;

/** `json`: the typed JSON protocol (docs/protocol.md). `relay`: every message to every other client, unchanged. */
export type Protocol = 'json' | 'relay';

export interface TopicOptions {
  readonly maxTopicLength?: number;
  readonly maxTopicsPerClient?: number;
  /** Unlimited unless set. */
  readonly maxMembersPerTopic?: number;
  /** Most members one `presence` answer lists; clients page with `cursor` (default 100). */
  readonly presencePageSize?: number;
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
}

export interface ClusterOptionsInput extends ClusterSettings {
  /** The broker carrying messages between hub processes (memoryBroker, redisBroker, natsBroker). close() closes it. */
  readonly broker: import('./cluster/broker/broker.js').Broker;
}

export interface ResolvedCluster {
  readonly nodeId: string;
  readonly prefix: string;
  readonly heartbeatMs: number;
  readonly nodeTimeoutMs: number;
  readonly maxEnvelopeBytes: number;
  readonly maxEnvelopeDepth: number;
}

/** Per-topic history with offsets and epochs, and recovery on subscribe (docs/protocol.md#recovery). */
export interface HistoryOptions {
  /** Messages kept per topic; 0 (the default) turns history off. */
  readonly size?: number;
  /** How long a topic's stream lives after its last publish, ms. */
  readonly ttlMs?: number;
  /** Topics that keep history: exact names and `prefix*` patterns; absent or empty: every topic. */
  readonly topics?: readonly string[];
  /** In-memory store: streams held at most (the least recently published is dropped beyond). */
  readonly maxStreams?: number;
  /** Your own store (src/history/store.ts); default: the bounded in-memory one. close() closes it. */
  readonly store?: import('./history/store.js').HistoryStore;
}

export interface HubOptions {
  /** Per-topic history and recovery; off unless `size` > 0. */
  readonly history?: HistoryOptions;
  /** Run as one node of a cluster (docs/scaling.md); single-process when absent. */
  readonly cluster?: ClusterOptionsInput;
  /** What clients speak on the socket (default `json`). `onMessage` replaces either. */
  readonly protocol?: Protocol;
  readonly topics?: TopicOptions;
  /** Whether topic members receive `joined`/`left` frames: for every topic, or those the predicate picks. */
  readonly presenceEvents?: boolean | ((topic: string) => boolean);
  readonly canSubscribe?: TopicHook;
  readonly canPublish?: TopicHook;
  /**
   * Who may list a topic's members with `presence` besides its members (who always may). Unset:
   * nobody else (ids are what direct sends are addressed to). `() => true` opens presence to all.
   */
  readonly canSeePresence?: TopicHook;
  /**
   * A Standard Schema (effect/Schema via Schema.toStandardSchemaV1, zod, valibot) per topic name or
   * `prefix*` pattern: a client's publish whose data does not match gets `invalid_data` and reaches
   * no one. Checked after canPublish; publishes from your code and the HTTP API are trusted.
   */
  readonly topicSchemas?: TopicSchemas;
  /** More than maxBadFrames undecodable frames within badFrameWindowMs closes the client with 1008. */
  readonly maxBadFrames?: number;
  readonly badFrameWindowMs?: number;
  /** Commands one client may have waiting on asynchronous hooks; beyond, `overloaded` errors. */
  readonly maxPendingCommands?: number;
  /** Only this path upgrades; any other gets 404. */
  readonly path?: string;
  /** Largest inbound message in bytes; larger closes with 1009. */
  readonly maxPayload?: number;
  readonly maxClients?: number;
  /** Hub-wide outbound queue bounds and overflow policy (overridable per client by authenticate). */
  readonly outbound?: Partial<OutboundLimits>;
  readonly writeHighWaterBytes?: number;
  readonly pingIntervalMs?: number;
  readonly pongWaitMs?: number;
  readonly closeTimeoutMs?: number;
  readonly shutdownTimeoutMs?: number;
  readonly authTimeoutMs?: number;
  /** From the upgrade request to the registered client, authenticate() included; beyond: 408. */
  readonly handshakeTimeoutMs?: number;
  /** Open connections per client address (upgrading ones included); beyond: 429. Unlimited by default. */
  readonly maxConnectionsPerIp?: number;
  /** Proxies in front of the hub whose X-Forwarded-For is believed (default 0: ignored). */
  readonly trustProxy?: number;
  /** Per-client inbound rate limits (docs/security.md); off unless a rate is set. */
  readonly rateLimit?: Partial<RateLimits>;
  /** A static token list (compared in constant time), and where tokens may come from. Not with authenticate. */
  readonly auth?: TokenOptions & { readonly tokens?: readonly string[] };
  readonly origins?: OriginPolicy;
  readonly authenticate?: (req: IncomingMessage) => AuthResult | Promise<AuthResult>;
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
  readonly logger?: Logger;
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
}

const POLICIES: readonly OverflowPolicy[] = ['close', 'drop-oldest', 'drop-newest'];

const positiveInt = (name: string, value: number | undefined, fallback: number): number => {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v <= 0) {
    throw new HubConfigError({
      reason: 'invalid-number',
      message: `${name} must be a positive integer, got ${String(value)}.`,
    });
  }
  return v;
};

const positiveOrUnlimited = (name: string, value: number | undefined, fallback: number, integer: boolean): number => {
  const v = value ?? fallback;
  if (v === Number.POSITIVE_INFINITY) return v;
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v) || (integer && !Number.isSafeInteger(v))) {
    throw new HubConfigError({
      reason: 'invalid-number',
      message: `${name} must be a positive ${integer ? 'integer' : 'number'} or Infinity, got ${String(value)}.`,
    });
  }
  return v;
};

const resolveRateLimit = (r: Partial<RateLimits> = {}, maxPayload: number): RateLimits => {
  const bytesBurst = positiveInt('rateLimit.bytesBurst', r.bytesBurst, Math.max(L.RATE_BYTES_BURST, maxPayload));
  if (bytesBurst < maxPayload) {
    throw new HubConfigError({
      reason: 'invariant',
      message: `rateLimit.bytesBurst (${bytesBurst}) must be at least maxPayload (${maxPayload}), or a largest message could never pass.`,
    });
  }
  return {
    messagesPerSec: positiveOrUnlimited('rateLimit.messagesPerSec', r.messagesPerSec, L.RATE_MESSAGES_PER_SEC, false),
    messagesBurst: positiveInt('rateLimit.messagesBurst', r.messagesBurst, L.RATE_MESSAGES_BURST),
    bytesPerSec: positiveOrUnlimited('rateLimit.bytesPerSec', r.bytesPerSec, L.RATE_BYTES_PER_SEC, false),
    bytesBurst,
    maxViolations: positiveInt('rateLimit.maxViolations', r.maxViolations, L.RATE_MAX_VIOLATIONS),
    violationWindowMs: positiveInt('rateLimit.violationWindowMs', r.violationWindowMs, L.RATE_VIOLATION_WINDOW_MS),
    controlFramesPerSec: positiveOrUnlimited(
      'rateLimit.controlFramesPerSec',
      r.controlFramesPerSec,
      L.RATE_CONTROL_FRAMES_PER_SEC,
      false,
    ),
    controlFramesBurst: positiveInt('rateLimit.controlFramesBurst', r.controlFramesBurst, L.RATE_CONTROL_FRAMES_BURST),
    presenceQueriesPerSec: positiveOrUnlimited(
      'rateLimit.presenceQueriesPerSec',
      r.presenceQueriesPerSec,
      L.RATE_PRESENCE_QUERIES_PER_SEC,
      false,
    ),
    presenceQueriesBurst: positiveInt(
      'rateLimit.presenceQueriesBurst',
      r.presenceQueriesBurst,
      L.RATE_PRESENCE_QUERIES_BURST,
    ),
  };
};

const TOKEN_SOURCES: readonly TokenSource[] = ['header', 'protocol', 'query'];

const resolveAuth = (options: HubOptions): ResolvedOptions['auth'] => {
  const a = options.auth ?? {};
  if (a.tokens !== undefined && options.authenticate !== undefined) {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message:
        'Give either auth.tokens or authenticate(), not both: call staticTokenAuth() inside your authenticate() to combine them.',
    });
  }
  if (
    a.tokens !== undefined &&
    (a.tokens.length === 0 || a.tokens.some((t) => typeof t !== 'string' || t.length === 0))
  ) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: 'auth.tokens must be a non-empty list of non-empty strings.',
    });
  }
  const from = a.from ?? L.TOKEN_SOURCES;
  const unknown = from.find((f) => !TOKEN_SOURCES.includes(f));
  if (unknown !== undefined || from.length === 0) {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message: `auth.from must list some of ${TOKEN_SOURCES.join(', ')}, got "${String(unknown ?? '')}".`,
    });
  }
  const protocolPrefix = a.protocolPrefix ?? L.TOKEN_PROTOCOL_PREFIX;
  if (protocolPrefix.length === 0) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: 'auth.protocolPrefix must not be empty, or every subprotocol would be taken for a token.',
    });
  }
  return { tokens: a.tokens, from, queryParam: a.queryParam ?? L.TOKEN_QUERY_PARAM, protocolPrefix };
};

/**
 * A cluster node's settings with their defaults, checked: the one place the node-id pattern and
 * the heartbeat/timeout invariant are enforced (createHub and the standalone server both call it).
 */
export function resolveCluster(c: ClusterSettings): ResolvedCluster {
  const nodeId = c.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
  const prefix = c.prefix ?? L.CLUSTER_PREFIX;
  for (const [name, value] of [
    ['cluster.nodeId', nodeId],
    ['cluster.prefix', prefix],
  ] as const) {
    if (!L.NODE_ID_PATTERN.test(value)) {
      throw new HubConfigError({
        reason: 'invalid-value',
        message: `${name} may only hold letters, digits, "-" and "_" (1–64), got "${value}".`,
      });
    }
  }
  const heartbeatMs = positiveInt('cluster.heartbeatMs', c.heartbeatMs, L.CLUSTER_HEARTBEAT_MS);
  const nodeTimeoutMs = positiveInt('cluster.nodeTimeoutMs', c.nodeTimeoutMs, L.NODE_TIMEOUT_MS);
  if (nodeTimeoutMs <= 2 * heartbeatMs) {
    throw new HubConfigError({
      reason: 'invariant',
      message: `cluster.nodeTimeoutMs (${nodeTimeoutMs}) must exceed twice cluster.heartbeatMs (${heartbeatMs}), or live nodes would be declared dead.`,
    });
  }
  const maxEnvelopeBytes = positiveInt('cluster.maxEnvelopeBytes', c.maxEnvelopeBytes, L.MAX_ENVELOPE_BYTES);
  const maxEnvelopeDepth = positiveInt('cluster.maxEnvelopeDepth', c.maxEnvelopeDepth, L.MAX_ENVELOPE_DEPTH);
  return { nodeId, prefix, heartbeatMs, nodeTimeoutMs, maxEnvelopeBytes, maxEnvelopeDepth };
}

const resolveHistory = (h: HistoryOptions = {}, protocol: Protocol): ResolvedOptions['history'] => {
  const size = h.size ?? L.HISTORY_SIZE;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new HubConfigError({
      reason: 'invalid-number',
      message: `history.size must be 0 (off) or a positive integer (messages kept per topic), got ${String(h.size)}.`,
    });
  }
  if (size > 0 && protocol !== 'json') {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message:
        'history needs the json protocol: relay frames carry no offsets. Drop history.size or use protocol "json".',
    });
  }
  const topics = h.topics?.map((t) => t.trim()).filter((t) => t.length > 0);
  const bad = topics?.find((t) => !/^[A-Za-z0-9._:/@-]*\*?$/.test(t));
  if (bad !== undefined) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `history.topics holds topic names or "prefix*" patterns, got "${bad}".`,
    });
  }
  return {
    size,
    ttlMs: positiveInt('history.ttlMs', h.ttlMs, L.HISTORY_TTL_MS),
    topics: topics === undefined || topics.length === 0 ? undefined : topics,
    maxStreams: positiveInt('history.maxStreams', h.maxStreams, L.HISTORY_MAX_STREAMS),
  };
};

/** Fills in defaults and checks every value and invariant; throws HubConfigError with a sentence. */
export function resolveOptions(options: HubOptions): ResolvedOptions {
  const path = options.path ?? L.DEFAULT_PATH;
  if (!path.startsWith('/')) {
    throw new HubConfigError({ reason: 'invalid-value', message: `path must start with "/", got "${path}".` });
  }
  const policy = options.outbound?.policy ?? 'close';
  if (!POLICIES.includes(policy)) {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message: `outbound.policy must be one of ${POLICIES.join(', ')}, got "${String(policy)}".`,
    });
  }
  const pongWaitMs = positiveInt('pongWaitMs', options.pongWaitMs, L.PONG_WAIT_MS);
  const pingIntervalMs = positiveInt(
    'pingIntervalMs',
    options.pingIntervalMs,
    options.pongWaitMs === undefined ? L.PING_INTERVAL_MS : Math.floor((pongWaitMs * 9) / 10),
  );
  if (pingIntervalMs >= pongWaitMs) {
    throw new HubConfigError({
      reason: 'invariant',
      message: `pingIntervalMs (${pingIntervalMs}) must be smaller than pongWaitMs (${pongWaitMs}), or every healthy peer would time out.`,
    });
  }
  const protocol = options.protocol ?? 'json';
  if (protocol !== 'json' && protocol !== 'relay') {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message: `protocol must be "json" or "relay", got "${String(protocol)}".`,
    });
  }
  const presence = options.presenceEvents ?? false;
  const maxPayload = positiveInt('maxPayload', options.maxPayload, L.MAX_PAYLOAD_BYTES);
  const trustProxy = options.trustProxy ?? L.TRUST_PROXY_HOPS;
  if (!Number.isSafeInteger(trustProxy) || trustProxy < 0) {
    throw new HubConfigError({
      reason: 'invalid-number',
      message: `trustProxy must be 0 or a positive integer (proxies in front of the hub), got ${String(options.trustProxy)}.`,
    });
  }
  return {
    cluster: options.cluster ? { broker: options.cluster.broker, ...resolveCluster(options.cluster) } : undefined,
    protocol,
    history: resolveHistory(options.history, protocol),
    topics: {
      maxTopicLength: positiveInt('topics.maxTopicLength', options.topics?.maxTopicLength, L.MAX_TOPIC_LENGTH),
      maxTopicsPerClient: positiveInt(
        'topics.maxTopicsPerClient',
        options.topics?.maxTopicsPerClient,
        L.MAX_TOPICS_PER_CLIENT,
      ),
      maxMembersPerTopic:
        options.topics?.maxMembersPerTopic === undefined
          ? L.MAX_MEMBERS_PER_TOPIC
          : positiveInt('topics.maxMembersPerTopic', options.topics.maxMembersPerTopic, 0),
      presencePageSize: positiveInt('topics.presencePageSize', options.topics?.presencePageSize, L.PRESENCE_PAGE_SIZE),
    },
    presenceEvents: typeof presence === 'function' ? presence : () => presence,
    maxBadFrames: positiveInt('maxBadFrames', options.maxBadFrames, L.MAX_BAD_FRAMES),
    badFrameWindowMs: positiveInt('badFrameWindowMs', options.badFrameWindowMs, L.BAD_FRAME_WINDOW_MS),
    maxPendingCommands: positiveInt('maxPendingCommands', options.maxPendingCommands, L.MAX_PENDING_COMMANDS),
    path,
    maxPayload,
    maxClients: positiveInt('maxClients', options.maxClients, L.MAX_CLIENTS),
    outbound: {
      maxMessages: positiveInt('outbound.maxMessages', options.outbound?.maxMessages, L.MAX_QUEUE_MESSAGES),
      maxBytes: positiveInt('outbound.maxBytes', options.outbound?.maxBytes, L.MAX_QUEUE_BYTES),
      policy,
    },
    writeHighWaterBytes: positiveInt('writeHighWaterBytes', options.writeHighWaterBytes, L.WRITE_HIGH_WATER_BYTES),
    pingIntervalMs,
    pongWaitMs,
    closeTimeoutMs: positiveInt('closeTimeoutMs', options.closeTimeoutMs, L.CLOSE_TIMEOUT_MS),
    shutdownTimeoutMs: positiveInt('shutdownTimeoutMs', options.shutdownTimeoutMs, L.SHUTDOWN_TIMEOUT_MS),
    authTimeoutMs: positiveInt('authTimeoutMs', options.authTimeoutMs, L.AUTH_TIMEOUT_MS),
    handshakeTimeoutMs: positiveInt('handshakeTimeoutMs', options.handshakeTimeoutMs, L.HANDSHAKE_TIMEOUT_MS),
    maxConnectionsPerIp: positiveOrUnlimited(
      'maxConnectionsPerIp',
      options.maxConnectionsPerIp,
      L.MAX_CONNECTIONS_PER_IP,
      true,
    ),
    trustProxy,
    rateLimit: resolveRateLimit(options.rateLimit, maxPayload),
    auth: resolveAuth(options),
    origins: options.origins ?? 'same-origin',
  };
}

/** Checks a per-client override (from authenticate()); throws HubConfigError with a sentence. */
export function checkLimitsOverride(limits: Partial<OutboundLimits>): Partial<OutboundLimits> {
  if (limits.policy !== undefined && !POLICIES.includes(limits.policy)) {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message: `limits.policy must be one of ${POLICIES.join(', ')}, got "${String(limits.policy)}".`,
    });
  }
  if (limits.maxMessages !== undefined) positiveInt('limits.maxMessages', limits.maxMessages, 0);
  if (limits.maxBytes !== undefined) positiveInt('limits.maxBytes', limits.maxBytes, 0);
  return limits;
}
