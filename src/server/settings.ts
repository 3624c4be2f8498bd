import { Config, Option } from 'effect';
import type { OverflowPolicy } from '../../machines/client.types.js';
import * as L from '../limits.js';
import type { LogLevel } from '../observability/logger.js';
import type { HubOptions, Protocol } from '../types.js';
import type { OriginPolicy } from '../admission/origin.js';
import { isTokenSource, type TokenSource } from '../admission/auth-token.js';

/**
 * Every setting of the standalone server, in one place: its CLI flag, its environment variable,
 * its default (typed, and as the docs show it), its unit, how it is read and checked, its help
 * text and, for the hub's own options, where it goes in createHub's options. The CLI's flags and
 * --help, the Effect Config that reads the environment and the README's table
 * (`npm run docs:settings`, checked by test/tools/settings-table.test.ts) all come from here.
 *
 * Adding a setting is one entry: a constant with its unit in src/limits.ts for the default, then
 * `name: setting({ flag, env, help, unit, ...int(L.X), hub: (v) => ({ option: v }) })`. A hub
 * option is checked where every hub option is (resolveOptions); `check` is for the server's own.
 */
export interface Setting<T> {
  readonly flag: string;
  readonly env: string;
  /** The default as --help and the README show it ('unlimited', 'none', '54000'). */
  readonly default: string;
  readonly unit?: string;
  readonly help: string;
  /** Reads the variable, with its type and default (a wrong type fails with the variable's name). */
  readonly read: (env: string) => Config.Config<T>;
  /** A sentence naming the variable when the value is out of bounds; undefined when it is fine. */
  readonly check?: (value: T) => string | undefined;
  /** Where the value goes in createHub's options; settings of the server itself have none. */
  readonly hub?: (value: T) => HubOptions;
  /** A flag without a value (`--inspect`). */
  readonly boolean?: true;
}

type Reader<T> = Pick<Setting<T>, 'read' | 'default'>;

const int = (fallback: number): Reader<number> => ({
  read: (env) => Config.Int(env).pipe(Config.withDefault(fallback)),
  default: String(fallback),
});
const str = (fallback: string): Reader<string> => ({
  read: (env) => Config.String(env).pipe(Config.withDefault(fallback)),
  default: fallback,
});
const bool = (fallback: boolean): Reader<boolean> => ({
  read: (env) => Config.Boolean(env).pipe(Config.withDefault(fallback)),
  default: String(fallback),
});
const oneOf = <const T extends string>(choices: readonly T[], fallback: T): Reader<T> => ({
  read: (env) => Config.Literals(choices, env).pipe(Config.withDefault(fallback)),
  default: fallback,
});
/** Unset means "the hub decides" (unlimited, none, generated, derived): shown as `shown`. */
const optional = <T>(read: (env: string) => Config.Config<T>, shown: string): Reader<T | undefined> => ({
  read: (env) => read(env).pipe(Config.option, Config.map(Option.getOrUndefined)),
  default: shown,
});

/** A positive number with a default, or `unlimited` (Infinity); anything else reads as NaN, for `check` to name. */
const numberOrUnlimited = (fallback: number): Reader<number> => ({
  read: (env) =>
    Config.String(env).pipe(
      Config.withDefault(String(fallback)),
      Config.map((v) => (v.trim() === 'unlimited' ? Number.POSITIVE_INFINITY : Number(v))),
    ),
  default: String(fallback),
});

const setting = <T>(s: Setting<T>): Setting<T> => s;

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const parseOrigins = (value: string): OriginPolicy => (value === '*' || value === 'same-origin' ? value : list(value));

const inRange = (env: string, min: number, max: number) => (v: number) =>
  v < min || v > max ? `${env} must be between ${min} and ${max}, got ${v}.` : undefined;

const SETTING_ENTRIES = {
  protocol: setting({
    flag: 'protocol',
    env: 'ACTORHUB_PROTOCOL',
    ...oneOf<Protocol>(['json', 'relay'], 'json'),
    help: 'json (docs/protocol.md) | relay (every message to every other client)',
    hub: (protocol) => ({ protocol }),
  }),
  port: setting({
    flag: 'port',
    env: 'PORT',
    ...int(L.DEFAULT_PORT),
    help: 'TCP port to listen on (0 = any free port)',
    check: inRange('PORT', 0, 65_535),
  }),
  host: setting({ flag: 'host', env: 'HOST', ...str(L.DEFAULT_HOST), help: 'interface to bind' }),
  path: setting({
    flag: 'path',
    env: 'ACTORHUB_PATH',
    ...str(L.DEFAULT_PATH),
    help: 'the only path that upgrades to WebSocket',
    hub: (path) => ({ path }),
  }),
  maxPayload: setting({
    flag: 'max-payload',
    env: 'ACTORHUB_MAX_PAYLOAD',
    ...int(L.MAX_PAYLOAD_BYTES),
    unit: 'bytes',
    help: 'largest inbound message (larger: close 1009)',
    hub: (maxPayload) => ({ maxPayload }),
  }),
  maxClients: setting({
    flag: 'max-clients',
    env: 'ACTORHUB_MAX_CLIENTS',
    ...int(L.MAX_CLIENTS),
    help: 'connected clients at most (beyond: HTTP 503)',
    hub: (maxClients) => ({ maxClients }),
  }),
  maxQueueMessages: setting({
    flag: 'max-queue-messages',
    env: 'ACTORHUB_MAX_QUEUE_MESSAGES',
    ...int(L.MAX_QUEUE_MESSAGES),
    unit: 'messages',
    help: 'outbound queue per client',
    hub: (maxMessages) => ({ outbound: { maxMessages } }),
  }),
  maxQueueBytes: setting({
    flag: 'max-queue-bytes',
    env: 'ACTORHUB_MAX_QUEUE_BYTES',
    ...int(L.MAX_QUEUE_BYTES),
    unit: 'bytes',
    help: 'outbound queue per client',
    hub: (maxBytes) => ({ outbound: { maxBytes } }),
  }),
  overflow: setting({
    flag: 'overflow',
    env: 'ACTORHUB_OVERFLOW',
    ...oneOf<OverflowPolicy>(['close', 'drop-oldest', 'drop-newest'], 'close'),
    help: 'full queue: close (4008) | drop-oldest | drop-newest',
    hub: (policy) => ({ outbound: { policy } }),
  }),
  pingInterval: setting({
    flag: 'ping-interval',
    env: 'ACTORHUB_PING_INTERVAL_MS',
    // Unset, the hub derives it from the pong wait (9/10 of it), as createHub does.
    ...optional(Config.Int, String(L.PING_INTERVAL_MS)),
    unit: 'ms',
    help: 'heartbeat sweep period (< pong wait; unset: 9/10 of it)',
    hub: (pingIntervalMs) => ({ pingIntervalMs }),
  }),
  pongWait: setting({
    flag: 'pong-wait',
    env: 'ACTORHUB_PONG_WAIT_MS',
    ...int(L.PONG_WAIT_MS),
    unit: 'ms',
    help: 'silence after which a peer is terminated',
    hub: (pongWaitMs) => ({ pongWaitMs }),
  }),
  shutdownTimeout: setting({
    flag: 'shutdown-timeout',
    env: 'ACTORHUB_SHUTDOWN_TIMEOUT_MS',
    ...int(L.SHUTDOWN_TIMEOUT_MS),
    unit: 'ms',
    help: 'graceful close: wait this long, then terminate',
    hub: (shutdownTimeoutMs) => ({ shutdownTimeoutMs }),
  }),
  maxTopicLength: setting({
    flag: 'max-topic-length',
    env: 'ACTORHUB_MAX_TOPIC_LENGTH',
    ...int(L.MAX_TOPIC_LENGTH),
    unit: 'characters',
    help: 'longest topic name',
    hub: (maxTopicLength) => ({ topics: { maxTopicLength } }),
  }),
  maxTopicsPerClient: setting({
    flag: 'max-topics-per-client',
    env: 'ACTORHUB_MAX_TOPICS_PER_CLIENT',
    ...int(L.MAX_TOPICS_PER_CLIENT),
    help: 'topics one client may join',
    hub: (maxTopicsPerClient) => ({ topics: { maxTopicsPerClient } }),
  }),
  maxSubscriptions: setting({
    flag: 'max-subscriptions',
    env: 'ACTORHUB_MAX_SUBSCRIPTIONS',
    ...int(L.MAX_SUBSCRIPTIONS),
    help: 'topic memberships the whole hub may hold (a memory bound)',
    hub: (maxSubscriptions) => ({ topics: { maxSubscriptions } }),
  }),
  maxMembersPerTopic: setting({
    flag: 'max-members-per-topic',
    env: 'ACTORHUB_MAX_MEMBERS_PER_TOPIC',
    ...optional(Config.Int, 'unlimited'),
    help: 'members one topic may have',
    hub: (maxMembersPerTopic) => ({ topics: { maxMembersPerTopic } }),
  }),
  presenceEvents: setting({
    flag: 'presence-events',
    env: 'ACTORHUB_PRESENCE_EVENTS',
    ...bool(false),
    help: 'send joined/left frames to topic members (true | false)',
    hub: (presenceEvents) => ({ presenceEvents }),
  }),
  presencePublic: setting({
    flag: 'presence-public',
    env: 'ACTORHUB_PRESENCE_PUBLIC',
    ...bool(false),
    help: "any client may list any topic's members (false: members only) (true | false)",
    hub: (open): HubOptions => (open ? { canSeePresence: () => true } : {}),
  }),
  presencePageSize: setting({
    flag: 'presence-page-size',
    env: 'ACTORHUB_PRESENCE_PAGE_SIZE',
    ...int(L.PRESENCE_PAGE_SIZE),
    unit: 'members',
    help: 'most members one presence answer lists (clients page with its cursor)',
    hub: (presencePageSize) => ({ topics: { presencePageSize } }),
  }),
  maxBadFrames: setting({
    flag: 'max-bad-frames',
    env: 'ACTORHUB_MAX_BAD_FRAMES',
    ...int(L.MAX_BAD_FRAMES),
    help: 'undecodable frames per minute before close 1008',
    hub: (maxBadFrames) => ({ maxBadFrames }),
  }),
  maxPerIp: setting({
    flag: 'max-per-ip',
    env: 'ACTORHUB_MAX_PER_IP',
    ...optional(Config.Int, 'unlimited'),
    help: 'open connections per client address (beyond: HTTP 429)',
    hub: (maxConnectionsPerIp) => ({ maxConnectionsPerIp }),
  }),
  trustProxy: setting({
    flag: 'trust-proxy',
    env: 'ACTORHUB_TRUST_PROXY',
    ...int(L.TRUST_PROXY_HOPS),
    help: 'proxies in front whose X-Forwarded-For is believed (0: ignore it)',
    hub: (trustProxy) => ({ trustProxy }),
  }),
  headersTimeout: setting({
    flag: 'headers-timeout',
    env: 'ACTORHUB_HEADERS_TIMEOUT_MS',
    ...int(L.HEADERS_TIMEOUT_MS),
    unit: 'ms',
    help: 'HTTP headers must be complete within this (slowloris: 408)',
    check: (v) => (v <= 0 ? `ACTORHUB_HEADERS_TIMEOUT_MS must be a positive number of ms, got ${v}.` : undefined),
  }),
  handshakeTimeout: setting({
    flag: 'handshake-timeout',
    env: 'ACTORHUB_HANDSHAKE_TIMEOUT_MS',
    ...int(L.HANDSHAKE_TIMEOUT_MS),
    unit: 'ms',
    help: 'upgrade request to registered client, auth included (beyond: 408)',
    hub: (handshakeTimeoutMs) => ({ handshakeTimeoutMs }),
  }),
  authTokens: setting({
    flag: 'auth-token',
    env: 'ACTORHUB_AUTH_TOKENS',
    ...optional(Config.String, 'none'),
    help: 'comma-separated tokens a client must present (prefer the env variable: flags show in ps)',
    hub: (tokens) => ({ auth: { tokens: tokens === undefined ? undefined : list(tokens) } }),
  }),
  tokenFrom: setting({
    flag: 'token-from',
    env: 'ACTORHUB_TOKEN_FROM',
    ...str(L.TOKEN_SOURCES.join(',')),
    help: 'where tokens are read: header,protocol,query (query strings end up in logs)',
    check: (v) =>
      list(v).length === 0 || !list(v).every(isTokenSource)
        ? `ACTORHUB_TOKEN_FROM must list some of header, protocol, query; got "${v}".`
        : undefined,
    hub: (from) => ({ auth: { from: list(from) as TokenSource[] } }),
  }),
  jwtSecret: setting({
    flag: 'jwt-secret',
    env: 'ACTORHUB_JWT_SECRET',
    ...optional(Config.String, 'none'),
    help: `verify connection tokens as HS256 JWTs with this secret (at least ${L.JWT_MIN_SECRET_BYTES} bytes; prefer the env variable)`,
  }),
  jwtPublicKey: setting({
    flag: 'jwt-public-key',
    env: 'ACTORHUB_JWT_PUBLIC_KEY',
    ...optional(Config.String, 'none'),
    help: 'verify connection tokens with this PEM public key or certificate file (RS256, ES256...)',
  }),
  jwtJwks: setting({
    flag: 'jwt-jwks',
    env: 'ACTORHUB_JWT_JWKS',
    ...optional(Config.String, 'none'),
    help: "verify connection tokens with the keys at this JWKS URL (your identity provider's jwks_uri)",
  }),
  jwtIssuer: setting({
    flag: 'jwt-issuer',
    env: 'ACTORHUB_JWT_ISSUER',
    ...optional(Config.String, 'any'),
    help: 'with a JWT key: the iss claim tokens must carry',
  }),
  jwtAudience: setting({
    flag: 'jwt-audience',
    env: 'ACTORHUB_JWT_AUDIENCE',
    ...optional(Config.String, 'any'),
    help: 'with a JWT key: the aud claim tokens must carry',
  }),
  rateMessages: setting({
    flag: 'rate-messages',
    env: 'ACTORHUB_RATE_MESSAGES',
    ...optional(Config.Finite, 'unlimited'),
    unit: 'messages/s',
    help: 'inbound rate per client (beyond: rate_limited, then 1008)',
    hub: (messagesPerSec) => ({ rateLimit: { messagesPerSec } }),
  }),
  rateMessagesBurst: setting({
    flag: 'rate-messages-burst',
    env: 'ACTORHUB_RATE_MESSAGES_BURST',
    ...int(L.RATE_MESSAGES_BURST),
    unit: 'messages',
    help: 'what a client may send at once above its rate',
    hub: (messagesBurst) => ({ rateLimit: { messagesBurst } }),
  }),
  rateBytes: setting({
    flag: 'rate-bytes',
    env: 'ACTORHUB_RATE_BYTES',
    ...optional(Config.Finite, 'unlimited'),
    unit: 'bytes/s',
    help: 'inbound rate per client',
    hub: (bytesPerSec) => ({ rateLimit: { bytesPerSec } }),
  }),
  rateBytesBurst: setting({
    flag: 'rate-bytes-burst',
    env: 'ACTORHUB_RATE_BYTES_BURST',
    ...optional(Config.Int, String(L.RATE_BYTES_BURST)),
    unit: 'bytes',
    help: 'what a client may send at once above its rate (>= max payload)',
    hub: (bytesBurst) => ({ rateLimit: { bytesBurst } }),
  }),
  rateMaxViolations: setting({
    flag: 'rate-max-violations',
    env: 'ACTORHUB_RATE_MAX_VIOLATIONS',
    ...int(L.RATE_MAX_VIOLATIONS),
    help: `dropped messages within ${L.RATE_VIOLATION_WINDOW_MS / 1000} s before close 1008`,
    hub: (maxViolations) => ({ rateLimit: { maxViolations } }),
  }),
  rateControlFrames: setting({
    flag: 'rate-control-frames',
    env: 'ACTORHUB_RATE_CONTROL_FRAMES',
    ...numberOrUnlimited(L.RATE_CONTROL_FRAMES_PER_SEC),
    unit: 'frames/s',
    help: 'inbound pings (and unsolicited pongs) per client, or unlimited (beyond: unanswered, then 1008)',
    check: (v) =>
      v > 0 ? undefined : `ACTORHUB_RATE_CONTROL_FRAMES must be a positive number or unlimited, got ${String(v)}.`,
    hub: (controlFramesPerSec) => ({ rateLimit: { controlFramesPerSec } }),
  }),
  rateControlBurst: setting({
    flag: 'rate-control-burst',
    env: 'ACTORHUB_RATE_CONTROL_BURST',
    ...int(L.RATE_CONTROL_FRAMES_BURST),
    unit: 'frames',
    help: 'control frames a client may send at once above that rate',
    hub: (controlFramesBurst) => ({ rateLimit: { controlFramesBurst } }),
  }),
  ratePresence: setting({
    flag: 'rate-presence',
    env: 'ACTORHUB_RATE_PRESENCE',
    ...numberOrUnlimited(L.RATE_PRESENCE_QUERIES_PER_SEC),
    unit: 'queries/s',
    help: 'presence queries per client, or unlimited (beyond: rate_limited, then 1008)',
    check: (v) =>
      v > 0 ? undefined : `ACTORHUB_RATE_PRESENCE must be a positive number or unlimited, got ${String(v)}.`,
    hub: (presenceQueriesPerSec) => ({ rateLimit: { presenceQueriesPerSec } }),
  }),
  ratePresenceBurst: setting({
    flag: 'rate-presence-burst',
    env: 'ACTORHUB_RATE_PRESENCE_BURST',
    ...int(L.RATE_PRESENCE_QUERIES_BURST),
    unit: 'queries',
    help: 'presence queries a client may send at once above that rate',
    hub: (presenceQueriesBurst) => ({ rateLimit: { presenceQueriesBurst } }),
  }),
  origins: setting({
    flag: 'origins',
    env: 'ACTORHUB_ORIGINS',
    ...str('same-origin'),
    help: 'allowed browser origins: same-origin | * | comma-separated list',
    hub: (origins) => ({ origins: parseOrigins(origins) }),
  }),
  historySize: setting({
    flag: 'history-size',
    env: 'ACTORHUB_HISTORY_SIZE',
    ...int(L.HISTORY_SIZE),
    unit: 'messages',
    help: 'kept per topic for recovery (0: history off; docs/protocol.md#recovery)',
    hub: (size) => ({ history: { size } }),
  }),
  historyTtl: setting({
    flag: 'history-ttl',
    env: 'ACTORHUB_HISTORY_TTL_MS',
    ...int(L.HISTORY_TTL_MS),
    unit: 'ms',
    help: "how long a topic's history lives after its last publish",
    hub: (ttlMs) => ({ history: { ttlMs } }),
  }),
  historyTopics: setting({
    flag: 'history-topics',
    env: 'ACTORHUB_HISTORY_TOPICS',
    ...optional(Config.String, 'all'),
    help: 'topics with history: comma-separated names or prefix* patterns',
    hub: (topics) => ({ history: { topics: topics === undefined ? undefined : list(topics) } }),
  }),
  historyMaxStreams: setting({
    flag: 'history-max-streams',
    env: 'ACTORHUB_HISTORY_MAX_STREAMS',
    ...int(L.HISTORY_MAX_STREAMS),
    help: 'topic histories held in memory at most (least recently published dropped)',
    hub: (maxStreams) => ({ history: { maxStreams } }),
  }),
  allowedHosts: setting({
    flag: 'allowed-hosts',
    env: 'ACTORHUB_ALLOWED_HOSTS',
    ...optional(Config.String, 'any'),
    help: 'comma-separated host names the server answers (.example.com: and subdomains); others get 403 (DNS rebinding)',
    hub: (hosts): HubOptions => (hosts === undefined ? {} : { allowedHosts: list(hosts) }),
  }),
  tlsCert: setting({
    flag: 'tls-cert',
    env: 'ACTORHUB_TLS_CERT',
    ...optional(Config.String, 'none'),
    help: 'PEM certificate file (chain after it): serve https:// and wss:// (with --tls-key; re-read on SIGHUP)',
  }),
  tlsKey: setting({
    flag: 'tls-key',
    env: 'ACTORHUB_TLS_KEY',
    ...optional(Config.String, 'none'),
    help: 'PEM private key file of --tls-cert (unencrypted; re-read on SIGHUP)',
  }),
  redis: setting({
    flag: 'redis',
    env: 'REDIS_URL',
    ...optional(Config.String, 'none'),
    help: 'cluster over Redis pub/sub, e.g. redis://127.0.0.1:6379',
  }),
  nats: setting({
    flag: 'nats',
    env: 'NATS_URL',
    ...optional(Config.String, 'none'),
    help: 'cluster over NATS, e.g. nats://127.0.0.1:4222',
  }),
  nodeId: setting({
    flag: 'node-id',
    env: 'ACTORHUB_NODE_ID',
    ...optional(Config.String, 'generated'),
    help: "this node's id in the cluster (letters, digits, - and _)",
  }),
  brokerWait: setting({
    flag: 'broker-wait',
    env: 'ACTORHUB_BROKER_WAIT_MS',
    ...int(L.BROKER_WAIT_MS),
    unit: 'ms',
    help: 'at start, retry an unreachable broker this long (0: fail at once)',
    check: (v) => (v < 0 ? `ACTORHUB_BROKER_WAIT_MS must be 0 or more, got ${v}.` : undefined),
  }),
  nodeTimeout: setting({
    flag: 'node-timeout',
    env: 'ACTORHUB_NODE_TIMEOUT_MS',
    ...int(L.NODE_TIMEOUT_MS),
    unit: 'ms',
    help: 'a silent node is dead after this long (> 2 × heartbeat)',
  }),
  clusterPrefix: setting({
    flag: 'cluster-prefix',
    env: 'ACTORHUB_CLUSTER_PREFIX',
    ...str(L.CLUSTER_PREFIX),
    help: 'channel prefix; clusters sharing a broker must differ',
  }),
  heartbeat: setting({
    flag: 'heartbeat',
    env: 'ACTORHUB_HEARTBEAT_MS',
    ...int(L.CLUSTER_HEARTBEAT_MS),
    unit: 'ms',
    help: 'cluster heartbeat period',
  }),
  clusterMaxEnvelopeBytes: setting({
    flag: 'cluster-max-envelope-bytes',
    env: 'ACTORHUB_CLUSTER_MAX_ENVELOPE_BYTES',
    ...int(L.MAX_ENVELOPE_BYTES),
    unit: 'bytes',
    help: 'largest broker message decoded (larger: dropped and counted as malformed)',
  }),
  clusterMaxEnvelopeDepth: setting({
    flag: 'cluster-max-envelope-depth',
    env: 'ACTORHUB_CLUSTER_MAX_ENVELOPE_DEPTH',
    ...int(L.MAX_ENVELOPE_DEPTH),
    help: 'deepest nesting of data and metadata in a broker message (deeper: dropped, counted)',
  }),
  clusterSyncPartBytes: setting({
    flag: 'cluster-sync-part-bytes',
    env: 'ACTORHUB_CLUSTER_SYNC_PART_BYTES',
    ...int(L.SYNC_PART_BYTES),
    unit: 'bytes',
    help: "a node's state (sync) is sent in broker messages of about this size (at most the envelope bound)",
  }),
  logLevel: setting({
    flag: 'log-level',
    env: 'LOG_LEVEL',
    ...oneOf<LogLevel>(['debug', 'info', 'warn', 'error', 'silent'], 'info'),
    help: 'debug | info | warn | error | silent',
  }),
  apiKey: setting({
    flag: 'api-key',
    env: 'ACTORHUB_API_KEY',
    // An empty value (ACTORHUB_API_KEY=) means no key, as if unset.
    read: (env) =>
      Config.String(env).pipe(
        Config.option,
        Config.map((key) => (Option.isSome(key) && key.value !== '' ? key.value : undefined)),
      ),
    default: 'none',
    help: 'bearer key of the HTTP API /api/* (none: API off, 404); prefer the env variable',
    check: (key) =>
      key !== undefined && !/^[\x21-\x7e]+$/.test(key)
        ? 'ACTORHUB_API_KEY must be printable ASCII without spaces (it travels in an Authorization header).'
        : undefined,
  }),
  apiMaxBody: setting({
    flag: 'api-max-body',
    env: 'ACTORHUB_API_MAX_BODY',
    ...int(L.API_MAX_BODY_BYTES),
    unit: 'bytes',
    help: 'largest HTTP API request body (larger: 413)',
    check: (v) => (v <= 0 ? `ACTORHUB_API_MAX_BODY must be a positive number of bytes, got ${v}.` : undefined),
  }),
  apiMaxDepth: setting({
    flag: 'api-max-depth',
    env: 'ACTORHUB_API_MAX_DEPTH',
    ...int(L.API_MAX_DATA_DEPTH),
    unit: 'levels',
    help: `deepest nesting of an HTTP API request's data (deeper: 400; at most ${L.MAX_ENVELOPE_DEPTH})`,
    check: (v) =>
      v <= 0 || v > L.MAX_ENVELOPE_DEPTH
        ? `ACTORHUB_API_MAX_DEPTH must be between 1 and ${L.MAX_ENVELOPE_DEPTH} (deeper data would not cross the cluster), got ${v}.`
        : undefined,
  }),
  inspect: setting({
    flag: 'inspect',
    env: 'ACTORHUB_INSPECT',
    ...bool(false),
    boolean: true,
    help: 'dev only: serve the live viewer at /inspect on the hub port (machines, counts, events)',
  }),
  inspectStately: setting({
    flag: 'inspect-stately',
    env: 'ACTORHUB_INSPECT_STATELY',
    ...bool(false),
    boolean: true,
    help: 'dev only, with --inspect: also start the Stately inspector relay on --inspect-port',
  }),
  inspectPort: setting({
    flag: 'inspect-port',
    env: 'ACTORHUB_INSPECT_PORT',
    ...int(L.DEFAULT_INSPECTOR_PORT),
    help: 'port of the Stately inspector relay (--inspect-stately) and its page',
    check: inRange('ACTORHUB_INSPECT_PORT', 0, 65_535),
  }),
};

type Entries = typeof SETTING_ENTRIES;
export type SettingName = keyof Entries;
/** Every setting's value, read and typed: what readServerConfig builds the server's config from. */
export type SettingValues = { -readonly [K in SettingName]: Entries[K] extends Setting<infer T> ? T : never };

/** The registry as a list, in the order --help and the README show it. */
export const SETTINGS: readonly (Setting<unknown> & { readonly name: SettingName })[] = (
  Object.keys(SETTING_ENTRIES) as SettingName[]
).map((name) => ({ name, ...(SETTING_ENTRIES[name] as Setting<unknown>) }));

/** One Effect Config over every variable of the registry. */
export const settingsConfig = Config.all(
  Object.fromEntries(SETTINGS.map((s) => [s.name, s.read(s.env)])) as {
    [K in SettingName]: Config.Config<SettingValues[K]>;
  },
);

/** The first value out of bounds, as a sentence naming its variable. */
export function settingProblem(
  values: SettingValues,
): { readonly reason: 'invalid-number' | 'invalid-value'; readonly message: string } | undefined {
  for (const s of SETTINGS) {
    const value = values[s.name];
    const message = s.check?.(value);
    if (message !== undefined)
      return { reason: typeof value === 'number' ? 'invalid-number' : 'invalid-value', message };
  }
  return undefined;
}

/** createHub's options as the settings give them (nested groups such as `outbound` merged). */
export function hubOptionsOf(values: SettingValues): HubOptions {
  const options: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    if (!s.hub) continue;
    for (const [key, value] of Object.entries(s.hub(values[s.name]))) {
      const before = options[key];
      options[key] = isGroup(before) && isGroup(value) ? { ...before, ...(value as object) } : (value as unknown);
    }
  }
  return options as HubOptions;
}

const isGroup = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The help's or README's text of a setting: its meaning, then its unit. */
export const meaningOf = (s: Setting<unknown>): string => (s.unit ? `${s.help}, ${s.unit}` : s.help);
