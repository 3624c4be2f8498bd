import { parseArgs } from 'node:util';
import { Config, ConfigProvider, Effect } from 'effect';
import type { OverflowPolicy } from '../../machines/client.types.js';
import { HubConfigError } from '../errors.js';
import * as L from '../limits.js';
import type { LogLevel } from '../observability/logger.js';
import { resolveOptions, type HubOptions, type Protocol } from '../options.js';
import type { OriginPolicy } from '../admission/origin.js';
import { isTokenSource, type TokenSource } from '../admission/auth-token.js';

/** Every setting of the standalone server: a CLI flag, its environment variable, its default. */
export const SETTINGS = [
  {
    flag: 'protocol',
    env: 'ACTORHUB_PROTOCOL',
    default: 'json',
    help: 'json (docs/protocol.md) | relay (every message to every other client)',
  },
  { flag: 'port', env: 'PORT', default: String(L.DEFAULT_PORT), help: 'TCP port to listen on (0 = any free port)' },
  { flag: 'host', env: 'HOST', default: L.DEFAULT_HOST, help: 'interface to bind' },
  { flag: 'path', env: 'ACTORHUB_PATH', default: L.DEFAULT_PATH, help: 'the only path that upgrades to WebSocket' },
  {
    flag: 'max-payload',
    env: 'ACTORHUB_MAX_PAYLOAD',
    default: String(L.MAX_PAYLOAD_BYTES),
    help: 'largest inbound message, bytes (larger: close 1009)',
  },
  {
    flag: 'max-clients',
    env: 'ACTORHUB_MAX_CLIENTS',
    default: String(L.MAX_CLIENTS),
    help: 'connected clients at most (beyond: HTTP 503)',
  },
  {
    flag: 'max-queue-messages',
    env: 'ACTORHUB_MAX_QUEUE_MESSAGES',
    default: String(L.MAX_QUEUE_MESSAGES),
    help: 'outbound queue per client, messages',
  },
  {
    flag: 'max-queue-bytes',
    env: 'ACTORHUB_MAX_QUEUE_BYTES',
    default: String(L.MAX_QUEUE_BYTES),
    help: 'outbound queue per client, bytes',
  },
  {
    flag: 'overflow',
    env: 'ACTORHUB_OVERFLOW',
    default: 'close',
    help: 'full queue: close (4008) | drop-oldest | drop-newest',
  },
  {
    flag: 'ping-interval',
    env: 'ACTORHUB_PING_INTERVAL_MS',
    default: String(L.PING_INTERVAL_MS),
    help: 'heartbeat sweep period, ms (< pong wait)',
  },
  {
    flag: 'pong-wait',
    env: 'ACTORHUB_PONG_WAIT_MS',
    default: String(L.PONG_WAIT_MS),
    help: 'silence after which a peer is terminated, ms',
  },
  {
    flag: 'shutdown-timeout',
    env: 'ACTORHUB_SHUTDOWN_TIMEOUT_MS',
    default: String(L.SHUTDOWN_TIMEOUT_MS),
    help: 'graceful close: wait this long, then terminate, ms',
  },
  {
    flag: 'max-topic-length',
    env: 'ACTORHUB_MAX_TOPIC_LENGTH',
    default: String(L.MAX_TOPIC_LENGTH),
    help: 'longest topic name, characters',
  },
  {
    flag: 'max-topics-per-client',
    env: 'ACTORHUB_MAX_TOPICS_PER_CLIENT',
    default: String(L.MAX_TOPICS_PER_CLIENT),
    help: 'topics one client may join',
  },
  {
    flag: 'max-members-per-topic',
    env: 'ACTORHUB_MAX_MEMBERS_PER_TOPIC',
    default: 'unlimited',
    help: 'members one topic may have',
  },
  {
    flag: 'presence-events',
    env: 'ACTORHUB_PRESENCE_EVENTS',
    default: 'false',
    help: 'send joined/left frames to topic members (true | false)',
  },
  {
    flag: 'max-bad-frames',
    env: 'ACTORHUB_MAX_BAD_FRAMES',
    default: String(L.MAX_BAD_FRAMES),
    help: 'undecodable frames per minute before close 1008',
  },
  {
    flag: 'max-per-ip',
    env: 'ACTORHUB_MAX_PER_IP',
    default: 'unlimited',
    help: 'open connections per client address (beyond: HTTP 429)',
  },
  {
    flag: 'trust-proxy',
    env: 'ACTORHUB_TRUST_PROXY',
    default: String(L.TRUST_PROXY_HOPS),
    help: 'proxies in front whose X-Forwarded-For is believed (0: ignore it)',
  },
  {
    flag: 'headers-timeout',
    env: 'ACTORHUB_HEADERS_TIMEOUT_MS',
    default: String(L.HEADERS_TIMEOUT_MS),
    help: 'HTTP headers must be complete within this (slowloris: 408), ms',
  },
  {
    flag: 'handshake-timeout',
    env: 'ACTORHUB_HANDSHAKE_TIMEOUT_MS',
    default: String(L.HANDSHAKE_TIMEOUT_MS),
    help: 'upgrade request to registered client, auth included (beyond: 408), ms',
  },
  {
    flag: 'auth-token',
    env: 'ACTORHUB_AUTH_TOKENS',
    default: 'none',
    help: 'comma-separated tokens a client must present (prefer the env variable: flags show in ps)',
  },
  {
    flag: 'token-from',
    env: 'ACTORHUB_TOKEN_FROM',
    default: L.TOKEN_SOURCES.join(','),
    help: 'where tokens are read: header,protocol,query (query strings end up in logs)',
  },
  {
    flag: 'rate-messages',
    env: 'ACTORHUB_RATE_MESSAGES',
    default: 'unlimited',
    help: 'inbound messages per second per client (beyond: rate_limited, then 1008)',
  },
  {
    flag: 'rate-messages-burst',
    env: 'ACTORHUB_RATE_MESSAGES_BURST',
    default: String(L.RATE_MESSAGES_BURST),
    help: 'messages a client may send at once above its rate',
  },
  { flag: 'rate-bytes', env: 'ACTORHUB_RATE_BYTES', default: 'unlimited', help: 'inbound bytes per second per client' },
  {
    flag: 'rate-bytes-burst',
    env: 'ACTORHUB_RATE_BYTES_BURST',
    default: String(L.RATE_BYTES_BURST),
    help: 'bytes a client may send at once above its rate (>= max payload)',
  },
  {
    flag: 'rate-max-violations',
    env: 'ACTORHUB_RATE_MAX_VIOLATIONS',
    default: String(L.RATE_MAX_VIOLATIONS),
    help: `dropped messages within ${L.RATE_VIOLATION_WINDOW_MS / 1000} s before close 1008`,
  },
  {
    flag: 'origins',
    env: 'ACTORHUB_ORIGINS',
    default: 'same-origin',
    help: 'allowed browser origins: same-origin | * | comma-separated list',
  },
  { flag: 'redis', env: 'REDIS_URL', default: 'none', help: 'cluster over Redis pub/sub, e.g. redis://127.0.0.1:6379' },
  { flag: 'nats', env: 'NATS_URL', default: 'none', help: 'cluster over NATS, e.g. nats://127.0.0.1:4222' },
  { flag: 'node-id', env: 'ACTORHUB_NODE_ID', default: 'generated', help: "this node's id in the cluster" },
  {
    flag: 'broker-wait',
    env: 'ACTORHUB_BROKER_WAIT_MS',
    default: '0',
    help: 'at start, retry an unreachable broker this long (0: fail at once), ms',
  },
  {
    flag: 'node-timeout',
    env: 'ACTORHUB_NODE_TIMEOUT_MS',
    default: '3500',
    help: 'a silent node is dead after this long (> 2 × heartbeat), ms',
  },
  {
    flag: 'cluster-prefix',
    env: 'ACTORHUB_CLUSTER_PREFIX',
    default: 'actorhub',
    help: 'channel prefix; clusters sharing a broker must differ',
  },
  { flag: 'heartbeat', env: 'ACTORHUB_HEARTBEAT_MS', default: '1000', help: 'cluster heartbeat period, ms' },
  { flag: 'log-level', env: 'LOG_LEVEL', default: 'info', help: 'debug | info | warn | error | silent' },
  {
    flag: 'api-key',
    env: 'ACTORHUB_API_KEY',
    default: 'none',
    help: 'bearer key of the HTTP API /api/* (none: API off, 404); prefer the env variable',
  },
  {
    flag: 'api-max-body',
    env: 'ACTORHUB_API_MAX_BODY',
    default: String(L.API_MAX_BODY_BYTES),
    help: 'largest HTTP API request body, bytes (larger: 413)',
  },
  {
    flag: 'inspect',
    env: 'ACTORHUB_INSPECT',
    default: 'false',
    boolean: true,
    help: 'dev only: start the Stately inspector relay and show every actor live',
  },
  {
    flag: 'inspect-port',
    env: 'ACTORHUB_INSPECT_PORT',
    default: String(L.DEFAULT_INSPECTOR_PORT),
    help: 'port of the inspector relay and its viewer page',
  },
] as const;

/** Which broker the standalone server joins, if any. */
export interface BrokerConfig {
  readonly kind: 'redis' | 'nats';
  readonly url: string;
  readonly waitMs: number;
}

export interface ClusterConfig {
  readonly nodeId: string | undefined;
  readonly prefix: string;
  readonly heartbeatMs: number;
  readonly nodeTimeoutMs: number;
}

/** The HTTP publish API (docs/observability.md). */
export interface ApiConfig {
  /** Undefined: the API is off and answers 404. */
  readonly apiKey: string | undefined;
  readonly maxBodyBytes: number;
}

export interface ServerConfig {
  readonly broker: BrokerConfig | undefined;
  /** The Stately inspector relay (--inspect, dev only). */
  readonly inspect?: { readonly enabled: boolean; readonly port: number };
  readonly cluster: ClusterConfig;
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  readonly api: ApiConfig;
  /** The standalone http.Server's own timeouts (slowloris); embedders set theirs on their server. */
  readonly http: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number };
  readonly hub: HubOptions;
}

const int = (env: string, fallback: number) => Config.Int(env).pipe(Config.withDefault(fallback));

const config = Config.all({
  redis: Config.option(Config.String('REDIS_URL')),
  nats: Config.option(Config.String('NATS_URL')),
  nodeId: Config.option(Config.String('ACTORHUB_NODE_ID')),
  brokerWaitMs: Config.Int('ACTORHUB_BROKER_WAIT_MS').pipe(Config.withDefault(0)),
  nodeTimeoutMs: Config.Int('ACTORHUB_NODE_TIMEOUT_MS').pipe(Config.withDefault(3_500)),
  heartbeatMs: Config.Int('ACTORHUB_HEARTBEAT_MS').pipe(Config.withDefault(1_000)),
  prefix: Config.String('ACTORHUB_CLUSTER_PREFIX').pipe(Config.withDefault('actorhub')),
  protocol: Config.Literals(['json', 'relay'], 'ACTORHUB_PROTOCOL').pipe(Config.withDefault('json' as Protocol)),
  maxTopicLength: int('ACTORHUB_MAX_TOPIC_LENGTH', L.MAX_TOPIC_LENGTH),
  maxTopicsPerClient: int('ACTORHUB_MAX_TOPICS_PER_CLIENT', L.MAX_TOPICS_PER_CLIENT),
  maxMembersPerTopic: Config.option(Config.Int('ACTORHUB_MAX_MEMBERS_PER_TOPIC')),
  presenceEvents: Config.Boolean('ACTORHUB_PRESENCE_EVENTS').pipe(Config.withDefault(false)),
  maxBadFrames: int('ACTORHUB_MAX_BAD_FRAMES', L.MAX_BAD_FRAMES),
  port: int('PORT', L.DEFAULT_PORT),
  host: Config.String('HOST').pipe(Config.withDefault(L.DEFAULT_HOST)),
  path: Config.String('ACTORHUB_PATH').pipe(Config.withDefault(L.DEFAULT_PATH)),
  maxPayload: int('ACTORHUB_MAX_PAYLOAD', L.MAX_PAYLOAD_BYTES),
  maxClients: int('ACTORHUB_MAX_CLIENTS', L.MAX_CLIENTS),
  maxMessages: int('ACTORHUB_MAX_QUEUE_MESSAGES', L.MAX_QUEUE_MESSAGES),
  maxBytes: int('ACTORHUB_MAX_QUEUE_BYTES', L.MAX_QUEUE_BYTES),
  policy: Config.Literals(['close', 'drop-oldest', 'drop-newest'], 'ACTORHUB_OVERFLOW').pipe(
    Config.withDefault('close' as OverflowPolicy),
  ),
  pingIntervalMs: Config.option(Config.Int('ACTORHUB_PING_INTERVAL_MS')),
  pongWaitMs: int('ACTORHUB_PONG_WAIT_MS', L.PONG_WAIT_MS),
  shutdownTimeoutMs: int('ACTORHUB_SHUTDOWN_TIMEOUT_MS', L.SHUTDOWN_TIMEOUT_MS),
  maxPerIp: Config.option(Config.Int('ACTORHUB_MAX_PER_IP')),
  trustProxy: int('ACTORHUB_TRUST_PROXY', L.TRUST_PROXY_HOPS),
  headersTimeoutMs: int('ACTORHUB_HEADERS_TIMEOUT_MS', L.HEADERS_TIMEOUT_MS),
  handshakeTimeoutMs: int('ACTORHUB_HANDSHAKE_TIMEOUT_MS', L.HANDSHAKE_TIMEOUT_MS),
  authTokens: Config.option(Config.String('ACTORHUB_AUTH_TOKENS')),
  tokenFrom: Config.String('ACTORHUB_TOKEN_FROM').pipe(Config.withDefault(L.TOKEN_SOURCES.join(','))),
  rateMessages: Config.option(Config.Finite('ACTORHUB_RATE_MESSAGES')),
  rateMessagesBurst: int('ACTORHUB_RATE_MESSAGES_BURST', L.RATE_MESSAGES_BURST),
  rateBytes: Config.option(Config.Finite('ACTORHUB_RATE_BYTES')),
  rateBytesBurst: Config.option(Config.Int('ACTORHUB_RATE_BYTES_BURST')),
  rateMaxViolations: int('ACTORHUB_RATE_MAX_VIOLATIONS', L.RATE_MAX_VIOLATIONS),
  origins: Config.String('ACTORHUB_ORIGINS').pipe(Config.withDefault('same-origin')),
  inspect: Config.Boolean('ACTORHUB_INSPECT').pipe(Config.withDefault(false)),
  inspectPort: int('ACTORHUB_INSPECT_PORT', L.DEFAULT_INSPECTOR_PORT),
  logLevel: Config.Literals(['debug', 'info', 'warn', 'error', 'silent'], 'LOG_LEVEL').pipe(
    Config.withDefault('info' as LogLevel),
  ),
  apiKey: Config.option(Config.String('ACTORHUB_API_KEY')),
  apiMaxBody: int('ACTORHUB_API_MAX_BODY', L.API_MAX_BODY_BYTES),
});

/** Effect's schema messages span lines ("Expected …\n  at ["PORT"]"): fold them into one sentence. */
const oneSentence = (message: string): string => {
  const text = message.replace(/^SchemaError\((.*)\)$/s, '$1');
  const at = /\n\s*at \["?([^"\]]+)"?\]/.exec(text);
  const what = text.replace(/\n\s*at \[.*\]/s, '').trim();
  return at
    ? `Invalid configuration: ${at[1]}: ${what.charAt(0).toLowerCase()}${what.slice(1)}.`
    : `Invalid configuration: ${what}.`;
};

type Raw = Config.Success<typeof config>;

const brokerOf = (c: Raw): BrokerConfig | undefined => {
  const redis = c.redis._tag === 'Some' ? c.redis.value : undefined;
  const nats = c.nats._tag === 'Some' ? c.nats.value : undefined;
  if (redis && nats) {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message: 'Give either --redis (REDIS_URL) or --nats (NATS_URL), not both.',
    });
  }
  const url = redis ?? nats;
  if (!url) return undefined;
  const kind = redis ? 'redis' : 'nats';
  if (!url.startsWith(`${kind}://`)) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `The ${kind} URL must start with ${kind}://, got "${url}".`,
    });
  }
  if (c.brokerWaitMs < 0)
    throw new HubConfigError({
      reason: 'invalid-number',
      message: `ACTORHUB_BROKER_WAIT_MS must be 0 or more, got ${c.brokerWaitMs}.`,
    });
  return { kind, url, waitMs: c.brokerWaitMs };
};

const clusterOf = (c: Raw): ClusterConfig => {
  if (c.heartbeatMs <= 0 || c.nodeTimeoutMs <= 2 * c.heartbeatMs) {
    throw new HubConfigError({
      reason: 'invariant',
      message: `ACTORHUB_NODE_TIMEOUT_MS (${c.nodeTimeoutMs}) must exceed twice ACTORHUB_HEARTBEAT_MS (${c.heartbeatMs}), or live nodes would be declared dead.`,
    });
  }
  const nodeId = c.nodeId._tag === 'Some' ? c.nodeId.value : undefined;
  if (nodeId !== undefined && !/^[A-Za-z0-9_-]{1,64}$/.test(nodeId)) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `ACTORHUB_NODE_ID may only hold letters, digits, "-" and "_", got "${nodeId}".`,
    });
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(c.prefix)) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: `ACTORHUB_CLUSTER_PREFIX may only hold letters, digits, "-" and "_", got "${c.prefix}".`,
    });
  }
  return { nodeId, prefix: c.prefix, heartbeatMs: c.heartbeatMs, nodeTimeoutMs: c.nodeTimeoutMs };
};

const apiOf = (c: Raw): ApiConfig => {
  // An empty value (ACTORHUB_API_KEY=) means no key, as if unset.
  const key = c.apiKey._tag === 'Some' && c.apiKey.value !== '' ? c.apiKey.value : undefined;
  if (key !== undefined && !/^[\x21-\x7e]+$/.test(key)) {
    throw new HubConfigError({
      reason: 'invalid-value',
      message: 'ACTORHUB_API_KEY must be printable ASCII without spaces (it travels in an Authorization header).',
    });
  }
  if (c.apiMaxBody <= 0)
    throw new HubConfigError({
      reason: 'invalid-number',
      message: `ACTORHUB_API_MAX_BODY must be a positive number of bytes, got ${c.apiMaxBody}.`,
    });
  return { apiKey: key, maxBodyBytes: c.apiMaxBody };
};

const list = (value: string): string[] =>
  value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);

const parseTokenFrom = (value: string): TokenSource[] => {
  const from = list(value);
  const bad = from.find((f) => !isTokenSource(f));
  if (bad !== undefined || from.length === 0) {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message: `ACTORHUB_TOKEN_FROM must list some of header, protocol, query; got "${value}".`,
    });
  }
  return from as TokenSource[];
};

const inspectOf = (c: Raw): NonNullable<ServerConfig['inspect']> => {
  if (c.inspectPort < 0 || c.inspectPort > 65_535) {
    throw new HubConfigError({
      reason: 'invalid-number',
      message: `ACTORHUB_INSPECT_PORT must be between 0 and 65535, got ${c.inspectPort}.`,
    });
  }
  if (c.inspect && c.inspectPort !== 0 && c.inspectPort === c.port) {
    throw new HubConfigError({
      reason: 'invariant',
      message: `The inspector relay and the hub cannot share port ${c.port}: give --inspect-port another one.`,
    });
  }
  return { enabled: c.inspect, port: c.inspectPort };
};

const parseOrigins = (value: string): OriginPolicy =>
  value === '*' || value === 'same-origin'
    ? value
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0);

/**
 * Reads the server configuration from an environment record (process.env merged with CLI
 * flags) and checks it: every failure is a HubConfigError whose message is a full sentence.
 */
export function readServerConfig(env: Record<string, string | undefined>): Effect.Effect<ServerConfig, HubConfigError> {
  return config.parse(ConfigProvider.fromEnvRecord(env)).pipe(
    Effect.mapError((error) => new HubConfigError({ reason: 'invalid-value', message: oneSentence(error.message) })),
    Effect.flatMap((c) =>
      Effect.try({
        try: (): ServerConfig => {
          if (c.port < 0 || c.port > 65_535) {
            throw new HubConfigError({
              reason: 'invalid-number',
              message: `PORT must be between 0 and 65535, got ${c.port}.`,
            });
          }
          const hub: HubOptions = {
            protocol: c.protocol,
            topics: {
              maxTopicLength: c.maxTopicLength,
              maxTopicsPerClient: c.maxTopicsPerClient,
              ...(c.maxMembersPerTopic._tag === 'Some' ? { maxMembersPerTopic: c.maxMembersPerTopic.value } : {}),
            },
            presenceEvents: c.presenceEvents,
            maxBadFrames: c.maxBadFrames,
            path: c.path,
            maxPayload: c.maxPayload,
            maxClients: c.maxClients,
            outbound: { maxMessages: c.maxMessages, maxBytes: c.maxBytes, policy: c.policy },
            pongWaitMs: c.pongWaitMs,
            ...(c.pingIntervalMs._tag === 'Some' ? { pingIntervalMs: c.pingIntervalMs.value } : {}),
            shutdownTimeoutMs: c.shutdownTimeoutMs,
            origins: parseOrigins(c.origins),
            trustProxy: c.trustProxy,
            handshakeTimeoutMs: c.handshakeTimeoutMs,
            ...(c.maxPerIp._tag === 'Some' ? { maxConnectionsPerIp: c.maxPerIp.value } : {}),
            auth: {
              from: parseTokenFrom(c.tokenFrom),
              ...(c.authTokens._tag === 'Some' ? { tokens: list(c.authTokens.value) } : {}),
            },
            rateLimit: {
              messagesBurst: c.rateMessagesBurst,
              maxViolations: c.rateMaxViolations,
              ...(c.rateMessages._tag === 'Some' ? { messagesPerSec: c.rateMessages.value } : {}),
              ...(c.rateBytes._tag === 'Some' ? { bytesPerSec: c.rateBytes.value } : {}),
              ...(c.rateBytesBurst._tag === 'Some' ? { bytesBurst: c.rateBytesBurst.value } : {}),
            },
          };
          if (c.headersTimeoutMs <= 0) {
            throw new HubConfigError({
              reason: 'invalid-number',
              message: `ACTORHUB_HEADERS_TIMEOUT_MS must be a positive number of ms, got ${c.headersTimeoutMs}.`,
            });
          }
          const http = {
            headersTimeoutMs: c.headersTimeoutMs,
            requestTimeoutMs: Math.max(L.REQUEST_TIMEOUT_MS, c.headersTimeoutMs),
          };
          resolveOptions(hub); // the same checks createHub makes, at start-up
          return {
            port: c.port,
            host: c.host,
            logLevel: c.logLevel,
            api: apiOf(c),
            http,
            hub,
            broker: brokerOf(c),
            cluster: clusterOf(c),
            inspect: inspectOf(c),
          };
        },
        catch: (error) =>
          error instanceof HubConfigError
            ? error
            : new HubConfigError({ reason: 'invalid-value', message: `Invalid configuration: ${String(error)}` }),
      }),
    ),
  );
}

export interface CliArgs {
  readonly help: boolean;
  /** The flags given, as environment variables: they override the real environment. */
  readonly env: Record<string, string>;
}

/** Parses CLI flags (`--port 9000`, `--port=9000`); unknown flags are a HubConfigError. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  const options = Object.fromEntries([
    ['help', { type: 'boolean' as const, short: 'h' }],
    ...SETTINGS.map((s) => [s.flag, { type: 'boolean' in s ? ('boolean' as const) : ('string' as const) }]),
  ]);
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false });
  } catch (error) {
    // node's messages may span lines ("…is ambiguous.\nDid you forget…"): the CLI prints one line.
    const text = (error as Error).message
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ')
      .replace(/\.+$/, '');
    throw new HubConfigError({ reason: 'unknown-flag', message: `${text}. Run with --help for the list of flags.` });
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const env: Record<string, string> = {};
  for (const s of SETTINGS) {
    const v = values[s.flag];
    if (typeof v === 'string') env[s.env] = v;
    else if (v === true) env[s.env] = 'true';
  }
  return { help: values.help === true, env };
}

export function helpText(): string {
  // Columns as wide as their longest entry, so long flags never push a row out of line.
  const [f, e, d] = [
    Math.max(...SETTINGS.map((s) => s.flag.length)) + 2,
    Math.max(...SETTINGS.map((s) => s.env.length)),
    Math.max(...SETTINGS.map((s) => s.default.length)),
  ];
  const row = (flag: string, env: string, def: string, meaning: string): string =>
    `  ${flag.padEnd(f)}  ${env.padEnd(e)}  ${def.padEnd(d)}  ${meaning}`;
  return [
    'actorhub — a WebSocket hub built on XState actors',
    '',
    'Usage: actorhub [flags]     (flags override environment variables)',
    '',
    row('flag', 'environment', 'default', 'meaning'),
    ...SETTINGS.map((s) => row(`--${s.flag}`, s.env, s.default, s.help)),
    row('--help, -h', '', '', 'show this help'),
    '',
    'Endpoints: ws://HOST:PORT/ws (the JSON protocol of docs/protocol.md, or the relay), GET / (live page), GET /stats, GET /healthz,',
    '           GET /metrics (Prometheus), POST /api/publish, POST /api/send, GET /api/stats (with --api-key; docs/observability.md)',
  ].join('\n');
}
