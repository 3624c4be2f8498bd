import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { Duration, Effect, Layer, Schedule } from 'effect';
import { reconnectSchedule } from '../cluster/broker/backoff.js';
import type { Broker } from '../cluster/broker/broker.js';
import { natsBroker } from '../cluster/broker/nats.js';
import { redisBroker } from '../cluster/broker/redis.js';
import { natsHistory } from '../history/nats.js';
import { redisHistory } from '../history/redis.js';
import type { HistoryStore } from '../history/store.js';
import type { BrokerConfig, ServerConfig } from './config.js';
import { HubConfigError, HubServerError } from '../errors.js';
import { hubRoutes } from './http-routes.js';
import { createHub } from '../hub.js';
import { HubServer, type HubServerShape } from './hub-server.js';
import { loadTls } from './tls.js';
import { createLogger } from '../observability/logger.js';
import * as L from '../limits.js';
import { isHubInspector, startInspector } from '../observability/inspector/inspector.js';
import { createViewer, type HubViewer } from '../observability/viewer/viewer.js';
import type { HubOptions } from '../types.js';

const isHubViewer = (value: unknown): value is HubViewer & { also?: unknown } =>
  typeof (value as Partial<HubViewer> | undefined)?.handle === 'function';

const displayHost = (address: AddressInfo): string =>
  address.address === '0.0.0.0' || address.address === '::'
    ? 'localhost'
    : address.family === 'IPv6'
      ? `[${address.address}]`
      : address.address;

/**
 * Connects to the configured broker. With waitMs 0 an unreachable broker fails start-up at
 * once; otherwise it is retried on the shared reconnect schedule for up to waitMs.
 */
export const connectBroker = (config: BrokerConfig, nodeId: string): Effect.Effect<Broker, HubServerError> => {
  const once = Effect.tryPromise({
    try: () =>
      config.kind === 'redis' ? redisBroker({ url: config.url, nodeId }) : natsBroker({ url: config.url, nodeId }),
    catch: (cause) =>
      new HubServerError({
        reason: 'broker-unreachable',
        message: `${(cause as Error).message.replace(/\.$/, '')}${config.waitMs > 0 ? ` (retried for ${config.waitMs} ms)` : ''}. Start the broker, or raise --broker-wait.`,
        cause,
      }),
  });
  return config.waitMs === 0
    ? once
    : once.pipe(Effect.retry(Schedule.max([reconnectSchedule, Schedule.during(Duration.millis(config.waitMs))])));
};

/**
 * The cluster's shared history store (docs/scaling.md#history-across-nodes), on the cluster's
 * broker: Redis numbers offsets in one script per publish; NATS in JetStream (one stream per
 * cluster prefix, offsets assigned under expected-last-subject-sequence).
 */
const sharedHistory = (
  config: ServerConfig,
  nodeId: string,
  size: number,
): Effect.Effect<HistoryStore, HubServerError> => {
  const settings = {
    url: config.broker!.url,
    prefix: config.cluster.prefix,
    nodeId,
    size,
    ttlMs: config.hub.history?.ttlMs ?? L.HISTORY_TTL_MS,
  };
  return Effect.tryPromise({
    try: () => (config.broker!.kind === 'redis' ? redisHistory(settings) : natsHistory(settings)),
    catch: (cause) =>
      new HubServerError({
        reason: 'broker-unreachable',
        message: `${(cause as Error).message.replace(/\.$/, '')}. Start the broker${
          config.broker!.kind === 'nats' ? ' with JetStream (nats-server -js)' : ''
        }, or raise --broker-wait.`,
        cause,
      }),
  });
};

const startInspectorEffect = (port: number, logLevel: ServerConfig['logLevel']) =>
  Effect.tryPromise({
    try: () => startInspector({ port, logger: createLogger(logLevel) }),
    catch: (cause) =>
      cause instanceof HubServerError
        ? cause
        : new HubServerError({
            reason: 'inspector-failed',
            message: `Cannot start the inspector: ${String(cause)}`,
            cause,
          }),
  });

/**
 * Acquires a hub listening on its own HTTP server; releasing it closes the hub gracefully
 * (1001 to every client, terminate after the shutdown timeout) and then the server.
 * `extra` adds what a config file cannot hold: hooks, a logger, an inspector.
 */
export const make = (config: ServerConfig, extra: HubOptions = {}) =>
  Effect.acquireRelease(
    Effect.gen(function* () {
      const nodeId = config.cluster.nodeId ?? `node-${randomUUID().slice(0, 8)}`;
      // Given to the hub, the inspector is closed by hub.close(); until then, by a failure here.
      const stately =
        config.inspect?.enabled && config.inspect.stately
          ? yield* startInspectorEffect(config.inspect.port, config.logLevel)
          : undefined;
      // --inspect: the hub's own viewer at /inspect; with --inspect-stately it also feeds the relay.
      const inspector = config.inspect?.enabled ? createViewer(stately ? { also: stately } : {}) : undefined;
      const broker = config.broker
        ? yield* connectBroker(config.broker, nodeId).pipe(
            Effect.tapError(() => Effect.promise(async () => inspector?.close())),
          )
        : undefined;
      const size = config.hub.history?.size ?? 0;
      const historyStore =
        broker && config.broker && size > 0
          ? yield* sharedHistory(config, nodeId, size).pipe(
              Effect.tapError(() =>
                Effect.promise(async () => {
                  await broker.close();
                  await inspector?.close();
                }),
              ),
            )
          : undefined;
      return yield* listen(config, {
        ...(inspector ? { inspect: inspector } : {}),
        ...(historyStore ? { history: { ...config.hub.history, store: historyStore } } : {}),
        ...(broker
          ? {
              cluster: {
                broker,
                nodeId,
                prefix: config.cluster.prefix,
                heartbeatMs: config.cluster.heartbeatMs,
                nodeTimeoutMs: config.cluster.nodeTimeoutMs,
                maxEnvelopeBytes: config.cluster.maxEnvelopeBytes,
                maxEnvelopeDepth: config.cluster.maxEnvelopeDepth,
                syncPartBytes: config.cluster.syncPartBytes,
              },
            }
          : {}),
        ...extra,
      });
    }),
    ({ hub, server }) =>
      Effect.promise(async () => {
        await hub.close(); // also leaves the cluster and closes the broker
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
      }),
  );

const listen = (config: ServerConfig, extra: HubOptions) =>
  Effect.callback<HubServerShape, HubServerError>((resume) => {
    const logger = extra.logger ?? createLogger(config.logLevel);
    const hub = createHub({ ...config.hub, ...extra, logger });
    // Slowloris: headers trickled or never sent time out with 408 (Node checks every interval).
    const { headersTimeoutMs, requestTimeoutMs } = config.http ?? {
      headersTimeoutMs: L.HEADERS_TIMEOUT_MS,
      requestTimeoutMs: L.REQUEST_TIMEOUT_MS,
    };
    const serverOptions = {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(L.CONNECTIONS_CHECK_INTERVAL_MS, Math.ceil(headersTimeoutMs / 4)),
    };
    const routes = hubRoutes(hub, {
      api: { ...config.api, logger },
      viewer: isHubViewer(extra.inspect) ? extra.inspect : undefined,
    });
    const tls = config.tls;
    // With --tls-cert/--tls-key the same routes and upgrades are served over TLS: https:// and wss://.
    const server = tls
      ? createHttpsServer({ ...serverOptions, cert: tls.cert, key: tls.key }, routes)
      : createServer(serverOptions, routes);
    const scheme = tls ? 'https' : 'http';
    /**
     * Re-reads the certificate and key (SIGHUP in the CLI): new handshakes use them, open
     * connections keep theirs. A bad file leaves the running certificates in place.
     */
    const reloadTls = (): boolean => {
      if (!tls) return false;
      try {
        const material = loadTls(tls);
        (server as ReturnType<typeof createHttpsServer>).setSecureContext(material);
        logger.info({ cert: tls.certFile, key: tls.keyFile }, 'TLS certificates reloaded');
        return true;
      } catch (err) {
        const message = err instanceof HubConfigError ? err.message : String(err);
        logger.error(
          { cert: tls.certFile, key: tls.keyFile, reason: message },
          'TLS reload failed; keeping the certificates in use',
        );
        return false;
      }
    };
    hub.attach(server);
    server.once('error', (cause) => {
      void hub.close({ timeoutMs: 1 });
      resume(
        Effect.fail(
          new HubServerError({
            reason: 'listen-failed',
            message: `Cannot listen on ${config.host}:${config.port}: ${(cause as Error).message}`,
            cause,
          }),
        ),
      );
    });
    server.listen(config.port, config.host, () => {
      const address = server.address() as AddressInfo;
      const viewer = isHubViewer(extra.inspect) ? extra.inspect : undefined;
      const relay = isHubInspector(extra.inspect) ? extra.inspect : viewer?.also;
      const inspect = {
        ...(relay && isHubInspector(relay) ? { inspectorUrl: relay.url } : {}),
        ...(viewer ? { viewerUrl: `${scheme}://${displayHost(address)}:${address.port}${viewer.path}` } : {}),
      };
      resume(
        Effect.succeed({
          hub,
          server,
          port: address.port,
          url: `${scheme}://${displayHost(address)}:${address.port}`,
          ...inspect,
          ...(tls ? { reloadTls } : {}),
        }),
      );
    });
  });

/** The hub as an Effect service: `Layer.launch(layer(config))` or provide it to your program. */
export const layer = (config: ServerConfig, extra?: HubOptions) => Layer.effect(HubServer, make(config, extra));
