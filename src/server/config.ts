import { parseArgs } from 'node:util';
import { ConfigProvider, Effect } from 'effect';
import { HubConfigError } from '../errors.js';
import * as L from '../limits.js';
import type { LogLevel } from '../observability/logger.js';
import { resolveCluster, resolveOptions } from '../options.js';
import type { HubOptions } from '../types.js';
import { loadTls, type TlsFiles, type TlsMaterial } from './tls.js';
import { readFileSync } from 'node:fs';
import { jwtAuth, type JwtAuthOptions } from '../admission/jwt-auth.js';
import { hubOptionsOf, meaningOf, settingProblem, SETTINGS, settingsConfig, type SettingValues } from './settings.js';

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
  readonly maxEnvelopeBytes: number;
  readonly maxEnvelopeDepth: number;
  readonly syncPartBytes: number;
}

/** The HTTP publish API (docs/observability.md). */
export interface ApiConfig {
  /** Undefined: the API is off and answers 404. */
  readonly apiKey: string | undefined;
  readonly maxBodyBytes: number;
  readonly maxDataDepth: number;
}

export interface ServerConfig {
  readonly broker: BrokerConfig | undefined;
  /** The Stately inspector relay (--inspect, dev only). */
  readonly inspect?: { readonly enabled: boolean; readonly port: number; readonly stately?: boolean };
  readonly cluster: ClusterConfig;
  readonly port: number;
  readonly host: string;
  readonly logLevel: LogLevel;
  readonly api: ApiConfig;
  /** The standalone http.Server's own timeouts (slowloris); embedders set theirs on their server. */
  readonly http: { readonly headersTimeoutMs: number; readonly requestTimeoutMs: number };
  readonly hub: HubOptions;
  /** --jwt-secret, --jwt-public-key or --jwt-jwks: connection tokens are JWTs (hub.authenticate is jwtAuth(jwt)). */
  readonly jwt?: JwtAuthOptions;
  /** --tls-cert / --tls-key: serve https:// and wss://; the files are read and checked at start-up. */
  readonly tls?: TlsFiles & TlsMaterial;
}

/** Effect's schema messages span lines ("Expected …\n  at ["PORT"]"): fold them into one sentence. */
const oneSentence = (message: string): string => {
  const text = message.replace(/^SchemaError\((.*)\)$/s, '$1');
  const at = /\n\s*at \["?([^"\]]+)"?\]/.exec(text);
  const what = text.replace(/\n\s*at \[.*\]/s, '').trim();
  return at
    ? `Invalid configuration: ${at[1]}: ${what.charAt(0).toLowerCase()}${what.slice(1)}.`
    : `Invalid configuration: ${what}.`;
};

const brokerOf = (c: SettingValues): BrokerConfig | undefined => {
  const { redis, nats } = c;
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
  return { kind, url, waitMs: c.brokerWait };
};

const clusterOf = (c: SettingValues): ClusterConfig => {
  const cluster = {
    nodeId: c.nodeId,
    prefix: c.clusterPrefix,
    heartbeatMs: c.heartbeat,
    nodeTimeoutMs: c.nodeTimeout,
    maxEnvelopeBytes: c.clusterMaxEnvelopeBytes,
    maxEnvelopeDepth: c.clusterMaxEnvelopeDepth,
    syncPartBytes: c.clusterSyncPartBytes,
  };
  resolveCluster(cluster); // the same checks createHub makes, at start-up; the id stays unset if not given
  return cluster;
};

const inspectOf = (c: SettingValues): NonNullable<ServerConfig['inspect']> => {
  if (c.inspect && c.inspectStately && c.inspectPort !== 0 && c.inspectPort === c.port) {
    throw new HubConfigError({
      reason: 'invariant',
      message: `The inspector relay and the hub cannot share port ${c.port}: give --inspect-port another one.`,
    });
  }
  return { enabled: c.inspect, port: c.inspectPort, stately: c.inspectStately };
};

const tlsOf = (c: SettingValues): (TlsFiles & TlsMaterial) | undefined => {
  if (c.tlsCert === undefined && c.tlsKey === undefined) return undefined;
  if (c.tlsCert === undefined || c.tlsKey === undefined) {
    throw new HubConfigError({
      reason: 'invariant',
      message: 'Give both --tls-cert and --tls-key (ACTORHUB_TLS_CERT, ACTORHUB_TLS_KEY), or neither.',
    });
  }
  const files = { certFile: c.tlsCert, keyFile: c.tlsKey };
  return { ...files, ...loadTls(files) };
};

/** The JWT settings as jwtAuth's options; the public key file is read here, so a bad one stops the start (exit 2). */
const jwtOf = (c: SettingValues, hub: HubOptions): JwtAuthOptions | undefined => {
  const sources = [
    ['--jwt-secret', c.jwtSecret],
    ['--jwt-public-key', c.jwtPublicKey],
    ['--jwt-jwks', c.jwtJwks],
  ].filter(([, v]) => v !== undefined);
  if (sources.length === 0) {
    if (c.jwtIssuer !== undefined || c.jwtAudience !== undefined)
      throw new HubConfigError({
        reason: 'invariant',
        message: '--jwt-issuer and --jwt-audience need a JWT key: give --jwt-secret, --jwt-public-key or --jwt-jwks.',
      });
    return undefined;
  }
  if (sources.length > 1)
    throw new HubConfigError({
      reason: 'invariant',
      message: `Give one JWT key, not ${sources.map(([flag]) => flag).join(' and ')}.`,
    });
  if (c.authTokens !== undefined)
    throw new HubConfigError({
      reason: 'invariant',
      message: 'Give either --auth-token (static tokens) or a JWT key, not both.',
    });
  let publicKey: string | undefined;
  if (c.jwtPublicKey !== undefined) {
    try {
      publicKey = readFileSync(c.jwtPublicKey, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(code ?? error);
      throw new HubConfigError({
        reason: 'invalid-value',
        message: `Cannot read the JWT public key file "${c.jwtPublicKey}" (--jwt-public-key): ${why}.`,
      });
    }
  }
  const options: JwtAuthOptions = {
    secret: c.jwtSecret,
    publicKey,
    jwksUrl: c.jwtJwks,
    issuer: c.jwtIssuer,
    audience: c.jwtAudience,
    from: hub.auth?.from,
  };
  return options;
};

/**
 * Reads the server configuration from an environment record (process.env merged with CLI
 * flags) and checks it: every failure is a HubConfigError whose message is a full sentence.
 */
export function readServerConfig(env: Record<string, string | undefined>): Effect.Effect<ServerConfig, HubConfigError> {
  return settingsConfig.parse(ConfigProvider.fromEnvRecord(env)).pipe(
    Effect.mapError((error) => new HubConfigError({ reason: 'invalid-value', message: oneSentence(error.message) })),
    Effect.flatMap((c) =>
      Effect.try({
        try: (): ServerConfig => {
          const problem = settingProblem(c);
          if (problem !== undefined) throw new HubConfigError(problem);
          const settings = hubOptionsOf(c);
          resolveOptions(settings); // the same checks createHub makes, at start-up
          const jwt = jwtOf(c, settings);
          // jwtAuth checks the key now (HubConfigError: exit 2); its hook verifies upgrades and `refresh`.
          let hub = settings;
          if (jwt) {
            try {
              hub = { ...settings, authenticate: jwtAuth(jwt) };
            } catch (error) {
              if (error instanceof HubConfigError && c.jwtPublicKey !== undefined && /public key/.test(error.message))
                throw new HubConfigError({
                  reason: error.reason,
                  message: error.message.replace(
                    /^The JWT public key/,
                    `The JWT public key file "${c.jwtPublicKey}" (--jwt-public-key)`,
                  ),
                });
              throw error;
            }
          }
          const tls = tlsOf(c);
          return {
            port: c.port,
            host: c.host,
            logLevel: c.logLevel,
            api: { apiKey: c.apiKey, maxBodyBytes: c.apiMaxBody, maxDataDepth: c.apiMaxDepth },
            http: {
              headersTimeoutMs: c.headersTimeout,
              requestTimeoutMs: Math.max(L.REQUEST_TIMEOUT_MS, c.headersTimeout),
            },
            hub,
            broker: brokerOf(c),
            cluster: clusterOf(c),
            inspect: inspectOf(c),
            ...(tls ? { tls } : {}),
            ...(jwt ? { jwt } : {}),
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
    ...SETTINGS.map((s) => [s.flag, { type: s.boolean ? ('boolean' as const) : ('string' as const) }]),
  ]);
  // `--port -1`: node's parseArgs takes "-1" for a flag and calls the value ambiguous. A
  // negative number after a flag that wants a value is that value (and then refused with a
  // sentence by the checks that know the range).
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    const flag = arg.startsWith('--') && !arg.includes('=') ? options[arg.slice(2)] : undefined;
    if (flag?.type === 'string' && next !== undefined && /^-\d/.test(next)) {
      args.push(`${arg}=${next}`);
      i++;
    } else args.push(arg);
  }
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
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
    ...SETTINGS.map((s) => row(`--${s.flag}`, s.env, s.default, meaningOf(s))),
    row('--help, -h', '', '', 'show this help'),
    '',
    'Endpoints: ws://HOST:PORT/ws (the JSON protocol of docs/protocol.md, or the relay), GET / (live page), GET /stats, GET /healthz,',
    '           GET /metrics (Prometheus), POST /api/publish, POST /api/send, GET /api/stats (with --api-key; docs/observability.md)',
  ].join('\n');
}
