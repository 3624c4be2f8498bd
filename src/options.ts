import { randomUUID } from 'node:crypto';
import type { OutboundLimits, OverflowPolicy } from '../machines/client.types.js';
import type { Settable } from '../machines/hub.types.js';
import { HubConfigError } from './errors.js';
import * as L from './limits.js';
import type { TokenSource } from './admission/auth-token.js';
import { invalidOrigin, type OriginPolicy } from './admission/origin.js';
import type { RateLimits } from './admission/rate-limit.js';
import type {
  ClusterSettings,
  HistoryOptions,
  HubOptions,
  Protocol,
  ResolvedCluster,
  ResolvedOptions,
} from './types.js';

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

const resolveRateLimit = (r: Settable<RateLimits> = {}, maxPayload: number): RateLimits => {
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

const resolveAllowedHosts = (hosts: readonly string[] | undefined): readonly string[] | undefined => {
  if (hosts === undefined) return undefined;
  const bad = hosts.find((h) => typeof h !== 'string' || !/^\.?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(h));
  if (hosts.length === 0 || bad !== undefined) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message:
        hosts.length === 0
          ? 'allowedHosts must list at least one host name (leave it unset to answer any Host).'
          : `allowedHosts: "${String(bad)}" is not a host name (a name, or .example.com for it and its subdomains; no port, no scheme).`,
    });
  }
  return hosts;
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
  // A part larger than the envelope bound would be dropped by every node: the bound caps it.
  const syncPartBytes = Math.min(
    positiveInt('cluster.syncPartBytes', c.syncPartBytes, L.SYNC_PART_BYTES),
    maxEnvelopeBytes,
  );
  return { nodeId, prefix, heartbeatMs, nodeTimeoutMs, maxEnvelopeBytes, maxEnvelopeDepth, syncPartBytes };
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
      maxSubscriptions: positiveInt('topics.maxSubscriptions', options.topics?.maxSubscriptions, L.MAX_SUBSCRIPTIONS),
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
    origins: resolveOrigins(options.origins),
    allowedHosts: resolveAllowedHosts(options.allowedHosts),
  };
}

const resolveOrigins = (origins: OriginPolicy | undefined): OriginPolicy => {
  const bad = origins === undefined ? undefined : invalidOrigin(origins);
  if (bad !== undefined) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `origins: "${String(bad)}" is not an origin; give "same-origin", "*", or origins like https://app.example.com (scheme, host and port only).`,
    });
  }
  return origins ?? 'same-origin';
};

/** Checks a per-client override (from authenticate()); throws HubConfigError with a sentence. */
export function checkLimitsOverride(limits: Settable<OutboundLimits>): Settable<OutboundLimits> {
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
