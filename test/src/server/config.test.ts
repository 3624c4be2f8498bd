import { Cause, Effect, Exit } from 'effect';
import { describe, expect, it } from 'vitest';
import { helpText, parseCliArgs, readServerConfig, type ServerConfig } from '../../../src/server/config.js';
import { SETTINGS } from '../../../src/server/settings.js';
import { HubConfigError } from '../../../src/errors.js';
import * as L from '../../../src/limits.js';
import { resolveOptions } from '../../../src/options.js';

type Env = Record<string, string | undefined>;

/** Runs readServerConfig and returns the config, failing the test with the error if refused. */
const read = (env: Env): ServerConfig => {
  const exit = Effect.runSyncExit(readServerConfig(env));
  if (Exit.isFailure(exit)) throw new Error(`expected a valid configuration, got: ${String(Cause.squash(exit.cause))}`);
  return exit.value;
};

/** Runs readServerConfig and returns the HubConfigError it fails with (a typed failure, not a defect). */
const refuse = (env: Env): HubConfigError => {
  const exit = Effect.runSyncExit(readServerConfig(env));
  if (Exit.isSuccess(exit)) throw new Error(`expected a HubConfigError, got a config: ${JSON.stringify(exit.value)}`);
  const failures = exit.cause.reasons.filter(Cause.isFailReason).map((r) => r.error);
  expect(failures, 'the error is a typed failure (E channel), not a defect').toHaveLength(1);
  const error = failures[0]!;
  expect(error).toBeInstanceOf(HubConfigError);
  expect(error._tag).toBe('HubConfigError');
  expect(typeof error.message).toBe('string');
  expect(error.message.length).toBeGreaterThan(0);
  return error;
};

/** What the CLI does: flags (as environment variables) override the real environment. */
const fromCli = (env: Env, argv: string[]): Env => ({ ...env, ...parseCliArgs(argv).env });

describe('readServerConfig: defaults', () => {
  it('fills in every default from an empty environment', () => {
    const c = read({});
    expect(c.port).toBe(8080);
    expect(c.host).toBe('0.0.0.0');
    expect(c.logLevel).toBe('info');
    expect(c.hub.path).toBe('/ws');
    expect(c.hub.maxPayload).toBe(L.MAX_PAYLOAD_BYTES);
    expect(c.hub.maxClients).toBe(L.MAX_CLIENTS);
    expect(c.hub.outbound).toEqual({ maxMessages: L.MAX_QUEUE_MESSAGES, maxBytes: L.MAX_QUEUE_BYTES, policy: 'close' });
    expect(c.hub.pongWaitMs).toBe(L.PONG_WAIT_MS);
    expect(c.hub.shutdownTimeoutMs).toBe(L.SHUTDOWN_TIMEOUT_MS);
    expect(c.hub.origins).toBe('same-origin');
  });

  it('leaves pingIntervalMs to the hub when it is not set (derived from pongWaitMs there)', () => {
    const c = read({ ACTORHUB_PONG_WAIT_MS: '1000' });
    expect(c.hub.pongWaitMs).toBe(1000);
    expect(c.hub.pingIntervalMs).toBeUndefined();
    expect(resolveOptions(c.hub).pingIntervalMs).toBe(900);
  });

  it('the defaults the config applies match the defaults SETTINGS advertises', () => {
    const c = read({});
    const resolved = resolveOptions(c.hub);
    const actual: Record<string, string> = {
      port: String(c.port),
      host: c.host,
      path: resolved.path,
      'max-payload': String(resolved.maxPayload),
      'max-clients': String(resolved.maxClients),
      'max-queue-messages': String(resolved.outbound.maxMessages),
      'max-queue-bytes': String(resolved.outbound.maxBytes),
      overflow: resolved.outbound.policy,
      'ping-interval': String(resolved.pingIntervalMs),
      'pong-wait': String(resolved.pongWaitMs),
      'shutdown-timeout': String(resolved.shutdownTimeoutMs),
      origins: String(resolved.origins),
      'log-level': c.logLevel,
      protocol: resolved.protocol,
      'max-topic-length': String(resolved.topics.maxTopicLength),
      'max-topics-per-client': String(resolved.topics.maxTopicsPerClient),
      'max-subscriptions': String(resolved.topics.maxSubscriptions),
      'max-members-per-topic': Number.isFinite(resolved.topics.maxMembersPerTopic)
        ? String(resolved.topics.maxMembersPerTopic)
        : 'unlimited',
      'presence-events': String(resolved.presenceEvents('any')),
      'max-bad-frames': String(resolved.maxBadFrames),
      redis: c.broker?.kind === 'redis' ? c.broker.url : 'none',
      nats: c.broker?.kind === 'nats' ? c.broker.url : 'none',
      'node-id': c.cluster.nodeId ?? 'generated',
      'broker-wait': String(c.broker?.waitMs ?? 0),
      'node-timeout': String(c.cluster.nodeTimeoutMs),
      heartbeat: String(c.cluster.heartbeatMs),
      'cluster-prefix': c.cluster.prefix,
      'cluster-max-envelope-bytes': String(c.cluster.maxEnvelopeBytes),
      'cluster-max-envelope-depth': String(c.cluster.maxEnvelopeDepth),
      'cluster-sync-part-bytes': String(c.cluster.syncPartBytes),
      'api-key': c.api.apiKey ?? 'none',
      'api-max-body': String(c.api.maxBodyBytes),
      'history-size': String(resolved.history.size),
      'history-ttl': String(resolved.history.ttlMs),
      'history-topics': resolved.history.topics ? resolved.history.topics.join(',') : 'all',
      'history-max-streams': String(resolved.history.maxStreams),
      'max-per-ip': Number.isFinite(resolved.maxConnectionsPerIp) ? String(resolved.maxConnectionsPerIp) : 'unlimited',
      'trust-proxy': String(resolved.trustProxy),
      'headers-timeout': String(c.http.headersTimeoutMs),
      'handshake-timeout': String(resolved.handshakeTimeoutMs),
      'auth-token': resolved.auth.tokens ? resolved.auth.tokens.join(',') : 'none',
      'token-from': resolved.auth.from.join(','),
      'rate-messages': Number.isFinite(resolved.rateLimit.messagesPerSec)
        ? String(resolved.rateLimit.messagesPerSec)
        : 'unlimited',
      'rate-messages-burst': String(resolved.rateLimit.messagesBurst),
      'rate-bytes': Number.isFinite(resolved.rateLimit.bytesPerSec)
        ? String(resolved.rateLimit.bytesPerSec)
        : 'unlimited',
      'rate-bytes-burst': String(resolved.rateLimit.bytesBurst),
      'rate-max-violations': String(resolved.rateLimit.maxViolations),
      'rate-control-frames': String(resolved.rateLimit.controlFramesPerSec),
      'rate-control-burst': String(resolved.rateLimit.controlFramesBurst),
      'rate-presence': String(resolved.rateLimit.presenceQueriesPerSec),
      'rate-presence-burst': String(resolved.rateLimit.presenceQueriesBurst),
      'presence-public': String(c.hub.canSeePresence !== undefined),
      'presence-page-size': String(resolved.topics.presencePageSize),
      'allowed-hosts': resolved.allowedHosts === undefined ? 'any' : resolved.allowedHosts.join(','),
      'api-max-depth': String(c.api.maxDataDepth),
      inspect: String(c.inspect?.enabled),
      'inspect-port': String(c.inspect?.port),
      'inspect-stately': String(c.inspect?.stately),
      'tls-cert': c.tls?.certFile ?? 'none',
      'tls-key': c.tls?.keyFile ?? 'none',
      'jwt-secret': c.jwt?.secret === undefined ? 'none' : String(c.jwt.secret),
      'jwt-public-key': c.jwt?.publicKey === undefined ? 'none' : 'given',
      'jwt-jwks': c.jwt?.jwksUrl === undefined ? 'none' : String(c.jwt.jwksUrl),
      'jwt-issuer': c.jwt?.issuer ?? 'any',
      'jwt-audience': c.jwt?.audience ?? 'any',
    };
    expect(Object.keys(actual).sort()).toEqual(SETTINGS.map((s) => s.flag).sort());
    for (const s of SETTINGS) expect(actual[s.flag], s.flag).toBe(s.default);
  });

  it('ignores unrelated environment variables', () => {
    expect(read({ HOME: '/root', PATH: '/usr/bin', SOMETHING: 'else' }).port).toBe(8080);
  });
});

describe('readServerConfig: values from the environment', () => {
  it('refuses an inspector port equal to the hub port, or out of range', () => {
    // The relay's port matters only with --inspect-stately: the viewer itself is on the hub's port.
    expect(() =>
      read({ PORT: '9000', ACTORHUB_INSPECT: 'true', ACTORHUB_INSPECT_STATELY: 'true', ACTORHUB_INSPECT_PORT: '9000' }),
    ).toThrow(/cannot share port 9000/);
    expect(read({ PORT: '9000', ACTORHUB_INSPECT: 'true', ACTORHUB_INSPECT_PORT: '9000' }).inspect?.enabled).toBe(true);
    expect(() => read({ ACTORHUB_INSPECT_PORT: '70000' })).toThrow(/ACTORHUB_INSPECT_PORT must be between 0 and 65535/);
  });

  it('parses every setting', () => {
    const c = read({
      PORT: '9000',
      HOST: '127.0.0.1',
      ACTORHUB_PATH: '/socket',
      ACTORHUB_MAX_PAYLOAD: '1024',
      ACTORHUB_MAX_CLIENTS: '10',
      ACTORHUB_MAX_QUEUE_MESSAGES: '5',
      ACTORHUB_MAX_QUEUE_BYTES: '4096',
      ACTORHUB_OVERFLOW: 'drop-oldest',
      ACTORHUB_PING_INTERVAL_MS: '1000',
      ACTORHUB_PONG_WAIT_MS: '3000',
      ACTORHUB_SHUTDOWN_TIMEOUT_MS: '250',
      ACTORHUB_ORIGINS: '*',
      LOG_LEVEL: 'debug',
      ACTORHUB_PROTOCOL: 'relay',
      ACTORHUB_MAX_TOPIC_LENGTH: '32',
      ACTORHUB_MAX_TOPICS_PER_CLIENT: '4',
      ACTORHUB_MAX_SUBSCRIPTIONS: '5000',
      ACTORHUB_MAX_MEMBERS_PER_TOPIC: '50',
      ACTORHUB_PRESENCE_EVENTS: 'true',
      ACTORHUB_MAX_BAD_FRAMES: '2',
      ACTORHUB_INSPECT: 'true',
      ACTORHUB_INSPECT_PORT: '9001',
    });
    expect(c).toEqual({
      broker: undefined,
      inspect: { enabled: true, port: 9001, stately: false },
      cluster: {
        nodeId: undefined,
        prefix: 'actorhub',
        heartbeatMs: 1000,
        nodeTimeoutMs: 3500,
        maxEnvelopeBytes: 16 * 1024 * 1024,
        maxEnvelopeDepth: 128,
        syncPartBytes: 256 * 1024,
      },
      port: 9000,
      host: '127.0.0.1',
      logLevel: 'debug',
      api: { apiKey: undefined, maxBodyBytes: 262_144, maxDataDepth: L.API_MAX_DATA_DEPTH },
      http: { headersTimeoutMs: L.HEADERS_TIMEOUT_MS, requestTimeoutMs: L.REQUEST_TIMEOUT_MS },
      hub: {
        protocol: 'relay',
        topics: {
          maxTopicLength: 32,
          maxTopicsPerClient: 4,
          maxSubscriptions: 5000,
          maxMembersPerTopic: 50,
          presencePageSize: 100,
        },
        presenceEvents: true,
        history: { size: L.HISTORY_SIZE, ttlMs: L.HISTORY_TTL_MS, maxStreams: L.HISTORY_MAX_STREAMS },
        maxBadFrames: 2,
        path: '/socket',
        maxPayload: 1024,
        maxClients: 10,
        outbound: { maxMessages: 5, maxBytes: 4096, policy: 'drop-oldest' },
        pingIntervalMs: 1000,
        pongWaitMs: 3000,
        shutdownTimeoutMs: 250,
        origins: '*',
        trustProxy: 0,
        handshakeTimeoutMs: L.HANDSHAKE_TIMEOUT_MS,
        auth: { from: ['header', 'protocol'] },
        rateLimit: {
          messagesBurst: L.RATE_MESSAGES_BURST,
          maxViolations: L.RATE_MAX_VIOLATIONS,
          controlFramesPerSec: L.RATE_CONTROL_FRAMES_PER_SEC,
          controlFramesBurst: L.RATE_CONTROL_FRAMES_BURST,
          presenceQueriesPerSec: L.RATE_PRESENCE_QUERIES_PER_SEC,
          presenceQueriesBurst: L.RATE_PRESENCE_QUERIES_BURST,
        },
      },
    });
  });

  it('presence: members only unless --presence-public; page size and query rate', () => {
    const open = read({
      ACTORHUB_PRESENCE_PUBLIC: 'true',
      ACTORHUB_PRESENCE_PAGE_SIZE: '25',
      ACTORHUB_RATE_PRESENCE: 'unlimited',
      ACTORHUB_RATE_PRESENCE_BURST: '3',
    }).hub;
    expect(open.canSeePresence).toBeTypeOf('function');
    expect(open.topics?.presencePageSize).toBe(25);
    expect(open.rateLimit).toMatchObject({ presenceQueriesPerSec: Number.POSITIVE_INFINITY, presenceQueriesBurst: 3 });
    expect(read({}).hub.canSeePresence).toBeUndefined();
    expect(() => read({ ACTORHUB_RATE_PRESENCE: '0' })).toThrow(/ACTORHUB_RATE_PRESENCE must be a positive number/);
  });

  it('control-frame limit: a rate, or unlimited; anything else stops the start', () => {
    expect(read({ ACTORHUB_RATE_CONTROL_FRAMES: '2.5', ACTORHUB_RATE_CONTROL_BURST: '7' }).hub.rateLimit).toMatchObject(
      { controlFramesPerSec: 2.5, controlFramesBurst: 7 },
    );
    expect(read({ ACTORHUB_RATE_CONTROL_FRAMES: 'unlimited' }).hub.rateLimit?.controlFramesPerSec).toBe(
      Number.POSITIVE_INFINITY,
    );
    expect(() => read({ ACTORHUB_RATE_CONTROL_FRAMES: 'lots' })).toThrow(
      /ACTORHUB_RATE_CONTROL_FRAMES must be a positive number or unlimited/,
    );
  });

  it.each(['close', 'drop-oldest', 'drop-newest'] as const)('accepts the overflow policy %s', (policy) => {
    expect(read({ ACTORHUB_OVERFLOW: policy }).hub.outbound?.policy).toBe(policy);
  });

  it.each(['debug', 'info', 'warn', 'error', 'silent'] as const)('accepts the log level %s', (level) => {
    expect(read({ LOG_LEVEL: level }).logLevel).toBe(level);
  });

  it('accepts PORT=0 (any free port) and the top of the range', () => {
    expect(read({ PORT: '0' }).port).toBe(0);
    expect(read({ PORT: '65535' }).port).toBe(65535);
  });

  it('produces a hub configuration createHub accepts', () => {
    expect(() =>
      resolveOptions(read({ ACTORHUB_OVERFLOW: 'drop-newest', ACTORHUB_PONG_WAIT_MS: '500' }).hub),
    ).not.toThrow();
  });
});

describe('readServerConfig: ACTORHUB_ORIGINS', () => {
  it("'*' allows any origin", () => {
    expect(read({ ACTORHUB_ORIGINS: '*' }).hub.origins).toBe('*');
  });

  it("'same-origin' is the policy of that name", () => {
    expect(read({ ACTORHUB_ORIGINS: 'same-origin' }).hub.origins).toBe('same-origin');
  });

  it('a comma-separated list becomes a list, trimmed, without empty entries', () => {
    expect(
      read({ ACTORHUB_ORIGINS: 'https://a.example, http://localhost:3000 ,,https://b.example,' }).hub.origins,
    ).toEqual(['https://a.example', 'http://localhost:3000', 'https://b.example']);
  });

  it('a single origin becomes a one-element list', () => {
    expect(read({ ACTORHUB_ORIGINS: 'https://only.example' }).hub.origins).toEqual(['https://only.example']);
  });
});

describe('readServerConfig: refusals', () => {
  it('refuses PORT=70000 with a message naming PORT and its range', () => {
    const error = refuse({ PORT: '70000' });
    expect(error.reason).toBe('invalid-number');
    expect(error.message).toContain('PORT');
    expect(error.message).toContain('65535');
    expect(error.message).toContain('70000');
  });

  it('refuses PORT=65536 and a negative PORT', () => {
    expect(refuse({ PORT: '65536' }).message).toContain('PORT');
    expect(refuse({ PORT: '-1' }).message).toContain('PORT');
  });

  it('refuses PORT=abc with a message naming PORT', () => {
    const error = refuse({ PORT: 'abc' });
    expect(error.message).toContain('PORT');
  });

  it('refuses a fractional PORT', () => {
    expect(refuse({ PORT: '80.5' }).message).toContain('PORT');
  });

  it('refuses a non-integer numeric setting and names it', () => {
    expect(refuse({ ACTORHUB_MAX_PAYLOAD: 'lots' }).message).toContain('ACTORHUB_MAX_PAYLOAD');
    expect(refuse({ ACTORHUB_PONG_WAIT_MS: '1s' }).message).toContain('ACTORHUB_PONG_WAIT_MS');
  });

  it('refuses a ping interval equal to the pong wait, mentioning both', () => {
    const error = refuse({ ACTORHUB_PING_INTERVAL_MS: '5000', ACTORHUB_PONG_WAIT_MS: '5000' });
    expect(error.reason).toBe('invariant');
    expect(error.message).toMatch(/ping/i);
    expect(error.message).toMatch(/pong/i);
    expect(error.message).toContain('5000');
  });

  it('refuses a ping interval greater than the pong wait, mentioning both values', () => {
    const error = refuse({ ACTORHUB_PING_INTERVAL_MS: '9000', ACTORHUB_PONG_WAIT_MS: '3000' });
    expect(error.message).toMatch(/ping/i);
    expect(error.message).toMatch(/pong/i);
    expect(error.message).toContain('9000');
    expect(error.message).toContain('3000');
  });

  it('refuses a ping interval at or above the default pong wait', () => {
    expect(refuse({ ACTORHUB_PING_INTERVAL_MS: String(L.PONG_WAIT_MS) }).reason).toBe('invariant');
  });

  it('refuses an unknown overflow policy, naming the setting and the choices', () => {
    const error = refuse({ ACTORHUB_OVERFLOW: 'explode' });
    expect(error.message).toContain('ACTORHUB_OVERFLOW');
    expect(error.message).toContain('drop-oldest');
  });

  it('refuses an unknown log level', () => {
    expect(refuse({ LOG_LEVEL: 'loud' }).message).toContain('LOG_LEVEL');
  });

  it("refuses zero or negative sizes (the hub's own checks run at start-up)", () => {
    expect(refuse({ ACTORHUB_MAX_CLIENTS: '0' }).message).toContain('maxClients');
    expect(refuse({ ACTORHUB_MAX_QUEUE_BYTES: '-5' }).message).toContain('maxBytes');
  });

  it('refuses a path that does not start with /', () => {
    expect(refuse({ ACTORHUB_PATH: 'ws' }).message).toContain('path');
  });

  it('is a failure of the Effect, usable with runPromiseExit', async () => {
    const exit = await Effect.runPromiseExit(readServerConfig({ PORT: '70000' }));
    expect(Exit.isFailure(exit)).toBe(true);
    await expect(Effect.runPromise(readServerConfig({ PORT: '70000' }))).rejects.toThrow(/PORT/);
  });
});

describe('readServerConfig: the HTTP API settings', () => {
  it('takes the key and the body limit; an empty key means no key (API off)', () => {
    expect(read({ ACTORHUB_API_KEY: 'k3y-with.symbols!', ACTORHUB_API_MAX_BODY: '1024' }).api).toEqual({
      apiKey: 'k3y-with.symbols!',
      maxBodyBytes: 1024,
      maxDataDepth: L.API_MAX_DATA_DEPTH,
    });
    expect(read({ ACTORHUB_API_KEY: '' }).api.apiKey).toBeUndefined();
    expect(read({}).api).toEqual({
      apiKey: undefined,
      maxBodyBytes: L.API_MAX_BODY_BYTES,
      maxDataDepth: L.API_MAX_DATA_DEPTH,
    });
    expect(read({ ACTORHUB_API_MAX_DEPTH: '16' }).api.maxDataDepth).toBe(16);
    expect(refuse({ ACTORHUB_API_MAX_DEPTH: '129' }).message).toContain(
      'ACTORHUB_API_MAX_DEPTH must be between 1 and 128',
    );
  });

  it('refuses a key that cannot travel in an Authorization header, and a body limit that is not positive', () => {
    expect(refuse({ ACTORHUB_API_KEY: 'two words' }).message).toContain('ACTORHUB_API_KEY');
    expect(refuse({ ACTORHUB_API_MAX_BODY: '0' }).message).toContain('ACTORHUB_API_MAX_BODY');
    expect(refuse({ ACTORHUB_API_MAX_BODY: 'big' }).message).toContain('ACTORHUB_API_MAX_BODY');
  });

  it('--api-key and --api-max-body are flags for them', () => {
    expect(read(fromCli({}, ['--api-key', 'secret', '--api-max-body', '2048'])).api).toEqual({
      apiKey: 'secret',
      maxBodyBytes: 2048,
      maxDataDepth: L.API_MAX_DATA_DEPTH,
    });
  });
});

describe('parseCliArgs', () => {
  it('maps every flag to its environment variable', () => {
    for (const s of SETTINGS) {
      if ('boolean' in s) {
        expect(parseCliArgs([`--${s.flag}`]).env, s.flag).toEqual({ [s.env]: 'true' });
        continue;
      }
      expect(parseCliArgs([`--${s.flag}`, 'v']).env, s.flag).toEqual({ [s.env]: 'v' });
      expect(parseCliArgs([`--${s.flag}=w`]).env, s.flag).toEqual({ [s.env]: 'w' });
    }
  });

  it('returns no env and help: false for no arguments', () => {
    expect(parseCliArgs([])).toEqual({ help: false, env: {} });
  });

  it('--help and -h set help', () => {
    expect(parseCliArgs(['--help']).help).toBe(true);
    expect(parseCliArgs(['-h']).help).toBe(true);
    expect(parseCliArgs(['--port', '1', '--help']).help).toBe(true);
  });

  it('throws a HubConfigError with reason unknown-flag for an unknown flag', () => {
    let thrown: unknown;
    try {
      parseCliArgs(['--bogus']);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(HubConfigError);
    const error = thrown as HubConfigError;
    expect(error._tag).toBe('HubConfigError');
    expect(error.reason).toBe('unknown-flag');
    expect(error.message).toContain('--bogus');
    expect(error.message).toContain('--help');
  });

  it("folds node's multi-line messages into one line (a value that looks like a flag)", () => {
    let message = '';
    try {
      parseCliArgs(['--api-max-body', '-x']); // a negative number is taken as the value (first-hour.test.ts)
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('--api-max-body');
    expect(message).not.toContain('\n');
  });

  it('help lines up every column, however long the flag', () => {
    const lines = helpText()
      .split('\n')
      .filter((l) => l.startsWith('  --'));
    const envColumn = new Set(lines.filter((l) => !l.startsWith('  --help')).map((l) => l.search(/ [A-Z][A-Z_]+ /)));
    expect(envColumn.size).toBe(1);
  });

  it('refuses positional arguments', () => {
    expect(() => parseCliArgs(['serve'])).toThrow(HubConfigError);
  });

  it('refuses a value flag without a value', () => {
    expect(() => parseCliArgs(['--port'])).toThrow(HubConfigError);
  });
});

describe('flags override the environment (merged as the CLI merges them)', () => {
  it('a flag wins over the same environment variable; the rest comes from the environment', () => {
    const env = { PORT: '1111', HOST: '10.0.0.1', LOG_LEVEL: 'warn' };
    const c = read(fromCli(env, ['--port', '2222', '--log-level=error']));
    expect(c.port).toBe(2222);
    expect(c.logLevel).toBe('error');
    expect(c.host).toBe('10.0.0.1');
  });

  it('a bad flag value is refused like a bad environment value', () => {
    expect(refuse(fromCli({ PORT: '9000' }, ['--port', 'abc'])).message).toContain('PORT');
  });

  it('a good flag value rescues a bad environment value', () => {
    expect(read(fromCli({ PORT: 'abc' }, ['--port', '0'])).port).toBe(0);
  });

  it('flags for the invariant are checked together with the environment', () => {
    const error = refuse(fromCli({ ACTORHUB_PONG_WAIT_MS: '2000' }, ['--ping-interval', '2500']));
    expect(error.reason).toBe('invariant');
    expect(read(fromCli({ ACTORHUB_PING_INTERVAL_MS: '2500' }, ['--pong-wait', '3000'])).hub.pingIntervalMs).toBe(2500);
  });

  it('--origins takes a comma-separated list', () => {
    expect(
      read(fromCli({ ACTORHUB_ORIGINS: '*' }, ['--origins', 'https://a.test,https://b.test'])).hub.origins,
    ).toEqual(['https://a.test', 'https://b.test']);
  });
});

describe('helpText', () => {
  const text = helpText();

  it('lists every flag, its environment variable and its default', () => {
    const lines = text.split('\n');
    for (const s of SETTINGS) {
      const line = lines.find((l) => l.trimStart().startsWith(`--${s.flag} `));
      expect(line, `--${s.flag}`).toBeDefined();
      expect(line).toContain(s.env);
      expect(line).toContain(s.default);
    }
  });

  it('mentions --help and the endpoints', () => {
    expect(text).toContain('--help');
    expect(text).toContain('/healthz');
    expect(text).toContain('/stats');
  });

  it('every SETTINGS flag and env var is unique', () => {
    expect(new Set(SETTINGS.map((s) => s.flag)).size).toBe(SETTINGS.length);
    expect(new Set(SETTINGS.map((s) => s.env)).size).toBe(SETTINGS.length);
  });
});

describe('readServerConfig: cluster', () => {
  it('joins Redis or NATS when a URL is given, with flags over env', () => {
    expect(read({ REDIS_URL: 'redis://127.0.0.1:6379' }).broker).toEqual({
      kind: 'redis',
      url: 'redis://127.0.0.1:6379',
      waitMs: 0,
    });
    expect(
      read(fromCli({}, ['--nats', 'nats://127.0.0.1:4222', '--broker-wait', '5000', '--node-id', 'eu-1'])).broker,
    ).toEqual({
      kind: 'nats',
      url: 'nats://127.0.0.1:4222',
      waitMs: 5000,
    });
    expect(read(fromCli({}, ['--node-id', 'eu-1', '--heartbeat', '500', '--node-timeout', '1500'])).cluster).toEqual({
      nodeId: 'eu-1',
      prefix: 'actorhub',
      heartbeatMs: 500,
      nodeTimeoutMs: 1500,
      maxEnvelopeBytes: 16 * 1024 * 1024,
      maxEnvelopeDepth: 128,
      syncPartBytes: 256 * 1024,
    });
    expect(read({}).broker).toBeUndefined();
  });

  it('refuses both brokers, a URL of the wrong scheme, a bad node id, and a node timeout too close to the heartbeat', () => {
    expect(refuse({ REDIS_URL: 'redis://a', NATS_URL: 'nats://b' }).message).toBe(
      'Give either --redis (REDIS_URL) or --nats (NATS_URL), not both.',
    );
    expect(refuse({ REDIS_URL: 'http://a' }).message).toMatch(/must start with redis:\/\//);
    expect(refuse({ ACTORHUB_NODE_ID: 'has space' }).message).toMatch(/cluster\.nodeId may only hold/);
    expect(refuse({ ACTORHUB_HEARTBEAT_MS: '1000', ACTORHUB_NODE_TIMEOUT_MS: '2000' }).message).toMatch(
      /must exceed twice/,
    );
  });
});

describe('readServerConfig: security settings', () => {
  it('reads the per-IP cap, proxy trust, timeouts, tokens and rate limits', () => {
    const c = read({
      ACTORHUB_MAX_PER_IP: '20',
      ACTORHUB_TRUST_PROXY: '1',
      ACTORHUB_HEADERS_TIMEOUT_MS: '5000',
      ACTORHUB_HANDSHAKE_TIMEOUT_MS: '7000',
      ACTORHUB_AUTH_TOKENS: 'one, two',
      ACTORHUB_TOKEN_FROM: 'protocol,query',
      ACTORHUB_RATE_MESSAGES: '50',
      ACTORHUB_RATE_BYTES: '65536',
    });
    const r = resolveOptions(c.hub);
    expect(r.maxConnectionsPerIp).toBe(20);
    expect(r.trustProxy).toBe(1);
    expect(c.http).toEqual({ headersTimeoutMs: 5000, requestTimeoutMs: L.REQUEST_TIMEOUT_MS });
    expect(r.handshakeTimeoutMs).toBe(7000);
    expect(r.auth).toMatchObject({ tokens: ['one', 'two'], from: ['protocol', 'query'] });
    expect(r.rateLimit).toMatchObject({ messagesPerSec: 50, messagesBurst: L.RATE_MESSAGES_BURST, bytesPerSec: 65536 });
  });

  it('refuses an unknown token source and a zero rate with a sentence', () => {
    expect(() => read({ ACTORHUB_TOKEN_FROM: 'cookie' })).toThrow(
      /ACTORHUB_TOKEN_FROM must list some of header, protocol, query/,
    );
    expect(() => read({ ACTORHUB_RATE_MESSAGES: '0' })).toThrow(
      /rateLimit\.messagesPerSec must be a positive number or Infinity, got 0\./,
    );
  });
});
