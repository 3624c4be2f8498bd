import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { createActor, type ActorRefFrom } from 'xstate';
import { WebSocketServer, type WebSocket } from 'ws';
import { clientMachine } from '../machines/client.machine.js';
import type { ClientId, Frame, Writer } from '../machines/client.types.js';
import type { OutboundFrames } from '../machines/hub.types.js';
import { hubMachine, type HubMachine } from '../machines/hub.machine.js';
import { selectProtocol, staticTokenAuth } from './admission/auth-token.js';
import { controlFrameLimits, presenceQueryLimits } from './admission/rate-limit.js';
import { createWriterLogic, type ClientWriter } from './transport/client-writer.js';
import { ConnectionCount } from './admission/connection-count.js';
import { CloseCode } from './transport/close-codes.js';
import { onMessageHandler } from './protocol/on-message.js';
import { preparer } from './protocol/prepare.js';
import { jsonFrames, relayFrames } from './protocol/frames.js';
import { createProtocolHandler } from './protocol/handler.js';
import { schemaLookup } from './protocol/topic-schemas.js';
import { createLogger, type Logger } from './observability/logger.js';
import type { Registry } from 'prom-client';
import { clientEvents } from './observability/client-events.js';
import { createFanoutTimes, timedDispatch, type FanoutTimes } from './observability/metrics/fanout.js';
import { createHubMetrics } from './observability/metrics/registry.js';
import { ClientTally, type QueueView } from './observability/metrics/tally.js';
import { resolveOptions } from './options.js';
import type { CloseOptions, Hub, HubOptions, ResolvedOptions } from './types.js';
import { presenceOf } from '../machines/remote-directory.js';
import { createStats, type HubStats } from './observability/stats.js';
import { createCluster, type Cluster } from './cluster/cluster.js';
import type { HubHistory, PublishOutcome } from '../machines/hub.types.js';
import { memoryHistory } from './history/memory.js';
import { clusterHistory, hubHistory, noticeEvent } from './history/hub-history.js';
import { readHistory } from './history/read.js';
import type { HistoryStore, SyncHistoryStore } from './history/store.js';
import { topicMatcher } from './history/topics.js';
import { HubConfigError, PublishError } from './errors.js';
import * as L from './limits.js';
import { createUpgradeHandler, type Admission } from './admission/upgrade.js';
import { isHubInspector } from './observability/inspector/inspector.js';
import { WsConnection, type WsConnectionOptions } from './transport/ws-connection.js';
import { failpointGuards, superviseActions, type ActionErrorReport } from './supervision.js';

export type { Hub, HubActor } from './types.js';
export { PublishError } from './errors.js';

/** The hub actor as the hub's own parts hold it: they also send its internal events (register, remote.*). */
type HubActor = ActorRefFrom<HubMachine>;

/**
 * Builds a hub from its parts: the protocol (how messages become frames and commands), the hub
 * actor (the machine with its effects provided), the cluster link, the upgrade gate, and the
 * handle users hold. Each part is a function below; this one only wires them together.
 */
export function createHub(options: HubOptions = {}): Hub {
  const resolved = resolveOptions(options);
  const logger = options.logger ?? createLogger('warn', 2);
  const stats = createStats();
  const tally = new ClientTally();
  const fanout = createFanoutTimes();
  // Assigned below; the protocol's hooks only run once the hub exists.
  let hub: Hub | undefined;
  const protocol = createProtocol(resolved, options, () => hub!, stats, logger);
  // Until the gate exists a failure can only be logged; failHub below takes over once it does.
  const supervisor: Supervisor = { failed: false, onFailure: (err) => logger.error({ err }, 'hub actor failed') };
  const cluster = resolved.cluster
    ? createCluster({ ...resolved.cluster, maxTopicLength: resolved.topics.maxTopicLength, logger })
    : undefined;
  const history = createHistory(resolved, options, cluster);
  const actor = startHubActor(resolved, options, {
    protocol,
    history,
    cluster,
    stats,
    tally,
    fanout,
    logger,
    supervisor,
  });
  if (cluster) joinCluster(cluster, actor, logger);
  if (cluster && history.store?.onStored) listenToStore(history.store, actor, resolved);
  const gate = createGate(resolved, options, actor, stats, logger);
  supervisor.onFailure = (error) =>
    failHub(error, { actor, cluster, gate, stats, logger, onFailure: options.onFailure });
  hub = createHandle(resolved, options, {
    actor,
    protocol,
    history,
    cluster,
    gate,
    stats,
    tally,
    fanout,
    logger,
    supervisor,
  });
  return hub;
}

interface Protocol {
  readonly frames: OutboundFrames;
  /** Turns what users send into the data the hub frames (strings, bytes, JSON once). */
  readonly prepare: (message: unknown) => unknown;
  /** The client machine's handleMessage; undefined: the machine's own (the relay). */
  readonly handleMessage: ReturnType<typeof createProtocolHandler> | undefined;
  /** What a client gets for a message its inbound rate limit dropped. */
  readonly rateLimitedFrame: Frame | undefined;
}

/** The protocol part: outbound frames, and the inbound handler (onMessage, the JSON protocol or the relay). */
function createProtocol(
  resolved: ResolvedOptions,
  options: HubOptions,
  hub: () => Hub,
  stats: HubStats,
  logger: Logger,
): Protocol {
  const frames =
    resolved.protocol === 'json'
      ? jsonFrames({
          maxPayload: resolved.maxPayload,
          maxTopicLength: resolved.topics.maxTopicLength,
          maxTopicsPerClient: resolved.topics.maxTopicsPerClient,
          maxMembersPerTopic: Number.isFinite(resolved.topics.maxMembersPerTopic)
            ? resolved.topics.maxMembersPerTopic
            : null,
          maxBadFrames: resolved.maxBadFrames,
        })
      : relayFrames;
  const handleMessage = options.onMessage
    ? onMessageHandler(options.onMessage, hub, stats, logger)
    : resolved.protocol === 'json'
      ? createProtocolHandler({
          hub,
          frames,
          maxTopicLength: resolved.topics.maxTopicLength,
          maxPendingCommands: resolved.maxPendingCommands,
          // As deep as the HTTP API takes, and never deeper than the cluster's nodes decode.
          maxDataDepth: Math.min(L.API_MAX_DATA_DEPTH, resolved.cluster?.maxEnvelopeDepth ?? Infinity),
          canSubscribe: options.canSubscribe,
          canPublish: options.canPublish,
          canSeePresence: options.canSeePresence,
          // jwtAuth's hook carries its own: `refresh` verifies new tokens as the upgrade did.
          reauthenticate: options.reauthenticate ?? reauthenticateOf(options.authenticate),
          presenceLimits: presenceQueryLimits(resolved.rateLimit),
          presenceLimitedMessage: `rate limit exceeded (${resolved.rateLimit.presenceQueriesPerSec} presence queries/s): query dropped`,
          schemaFor: schemaLookup(options.topicSchemas),
          logger,
          stats,
        })
      : undefined; // relay: the machine's own default action
  const { messagesPerSec, bytesPerSec } = resolved.rateLimit;
  const rates = [
    ...(Number.isFinite(messagesPerSec) ? [`${messagesPerSec} messages/s`] : []),
    ...(Number.isFinite(bytesPerSec) ? [`${bytesPerSec} bytes/s`] : []),
  ];
  const rateLimitedFrame = frames.error(
    undefined,
    'rate_limited',
    `rate limit exceeded (${rates.join(', ')}): message dropped`,
  );
  return { frames, prepare: preparer(resolved.protocol), handleMessage, rateLimitedFrame };
}

interface History {
  /** Undefined: history is off. */
  readonly store: HistoryStore | undefined;
  /** What the hub machine uses (a synchronous store only). */
  readonly port: HubHistory | undefined;
  readonly covers: (topic: string) => boolean;
}

/** The history part: the store (yours, or the bounded in-memory default) and which topics keep history. */
function createHistory(resolved: ResolvedOptions, options: HubOptions, cluster: Cluster | undefined): History {
  const { size, ttlMs, maxStreams, topics } = resolved.history;
  const covers = topicMatcher(topics);
  if (size === 0) return { store: undefined, port: undefined, covers };
  const store = options.history?.store;
  if (cluster) {
    if (!store || store.synchronous) {
      throw new HubConfigError({
        reason: 'invalid-choice',
        message:
          "history across nodes needs a shared store: give history.store (await redisHistory({ url, prefix, nodeId, size, ttlMs }), or natsHistory, both from 'actorhub'); an in-memory one would number each node apart.",
      });
    }
    const port = clusterHistory(store, size, covers, () => cluster.ready(), L.HISTORY_COMMAND_TIMEOUT_MS);
    return { store, port, covers };
  }
  const local = store ?? memoryHistory({ size, ttlMs, maxStreams });
  if (!local.synchronous) {
    throw new HubConfigError({
      reason: 'invalid-choice',
      message: `history.store "${local.kind}" answers asynchronously: only a cluster hub can use it.`,
    });
  }
  return { store: local, port: hubHistory(local as SyncHistoryStore, size, covers), covers };
}

/** What createHub knows of the hub actor's health (docs/architecture.md#supervision). */
interface Supervisor {
  failed: boolean;
  onFailure: (error: unknown) => void;
}

/**
 * The hub actor failed (an exception outside any supervised action): make it visible and safe.
 * Upgrades get 503, every client is closed with 1011 (nobody would serve it any more), the node
 * leaves its cluster (the others drop its clients after the node timeout), `/healthz` answers
 * 503 and the embedder's onFailure is called; the standalone server exits 1 from there.
 */
function failHub(
  error: unknown,
  parts: {
    actor: HubActor;
    cluster: Cluster | undefined;
    gate: Gate;
    stats: HubStats;
    logger: Logger;
    onFailure: ((error: unknown) => void) | undefined;
  },
): void {
  const { actor, cluster, gate, stats, logger } = parts;
  stats.hubFailures++;
  gate.closing = true;
  const clients = actor.getSnapshot().context.clients;
  logger.error(
    { err: error, clients: clients.size },
    'hub actor failed: closing every client with 1011, refusing upgrades, leaving the cluster',
  );
  // XState leaves a failed actor's children running (its invoked departures queue and heartbeat,
  // its clients): halt the invoked ones, and let every socket's last report go nowhere, or they
  // send to the stopped hub (and XState warns about each such event).
  for (const child of Object.values(actor.getSnapshot().children))
    (child as { send(e: { type: string }): void }).send({ type: 'callback.halt' });
  const nobody = { send: () => undefined };
  const event = { type: 'writer.close', code: CloseCode.InternalError, reason: 'internal error' } as const;
  for (const entry of clients.values()) {
    try {
      entry.writer.handOver(nobody);
      entry.writer.send(event);
    } catch (err) {
      logger.error({ err }, 'hub failure: could not close a client');
    }
  }
  if (cluster) void cluster.close().catch(() => undefined);
  try {
    parts.onFailure?.(error);
  } catch (err) {
    logger.error({ err }, 'onFailure threw');
  }
}

interface ActorParts {
  readonly supervisor: Supervisor;
  readonly protocol: Protocol;
  readonly history: History;
  readonly cluster: Cluster | undefined;
  readonly stats: HubStats;
  readonly tally: ClientTally;
  readonly fanout: FanoutTimes;
  readonly logger: Logger;
}

/** The hub actor: the machine with its effects provided (client logic, writers, timing, logging), started. */
function startHubActor(resolved: ResolvedOptions, options: HubOptions, parts: ActorParts): HubActor {
  const { protocol, cluster, stats, tally, fanout, logger, supervisor } = parts;
  const clientLogic = clientMachine.provide({
    actions: protocol.handleMessage ? { handleMessage: protocol.handleMessage } : {},
  });
  const createWriter = createWriterLogic({
    stats,
    events: clientEvents(logger, tally),
    inbound: {
      rate: resolved.rateLimit,
      limitedFrame: protocol.rateLimitedFrame,
      control: controlFrameLimits(resolved.rateLimit),
    },
  });
  const reportActionError: ActionErrorReport = (action, error, context, params) => {
    stats.hubErrors++;
    try {
      logger.error({ err: error, action }, 'hub action threw: its event was dropped, the hub goes on');
      // A client's command would otherwise wait for its ack forever: answer it.
      const p = params as { ref?: string | number; id?: unknown; from?: unknown } | undefined;
      const who = typeof p?.from === 'string' ? p.from : typeof p?.id === 'string' ? p.id : undefined;
      if (context && p?.ref !== undefined && who !== undefined) {
        const frame = context.frames.error(p.ref, 'internal', 'the hub could not process this command');
        if (frame) context.clients.get(who)?.writer.send({ type: 'writer.deliver', frame });
      }
    } catch {
      // Reporting must never throw into the hub.
    }
  };
  const machine = hubMachine.provide({
    // Every action supervised: an exception inside one is reported, not fatal (src/supervision.ts).
    actions: superviseActions(
      {
        ...hubMachine.implementations.actions,
        ...timedDispatch(hubMachine.implementations.actions, fanout),
        reportError: (_: unknown, params: { during: string; error: unknown }) => {
          logger.error({ err: params.error, during: params.during }, 'hub event failed');
        },
      },
      reportActionError,
      options.failpoint,
    ) as never,
    ...(options.failpoint
      ? { guards: failpointGuards(hubMachine.implementations.guards, options.failpoint) as never }
      : {}),
  });
  const actor = createActor(machine, {
    input: {
      clientLogic,
      createWriter,
      frames: protocol.frames,
      topicLimits: resolved.topics,
      presenceEvents: guardedPredicate(resolved.presenceEvents, stats, logger),
      badFrames: { max: resolved.maxBadFrames, windowMs: resolved.badFrameWindowMs },
      forward: cluster ? cluster.forward : () => undefined,
      history: parts.history.port,
      limits: resolved.outbound,
      maxClients: resolved.maxClients,
      pingIntervalMs: resolved.pingIntervalMs,
      pongWaitMs: resolved.pongWaitMs,
      shutdownTimeoutMs: resolved.shutdownTimeoutMs,
      // Someone is looking: each client's shutdown close becomes a step of its own machine.
      watched: options.inspect !== undefined,
    },
    ...(options.inspect ? { inspect: options.inspect } : {}),
  });
  // Observe the root: an unobserved actor error would become an uncaught exception (docs/decisions/0001-xstate-facts.md, fact 5).
  // It also is where supervision's second layer starts: a failure of the hub actor itself.
  actor.subscribe({
    error: (err) => {
      if (supervisor.failed) return;
      supervisor.failed = true;
      supervisor.onFailure(err);
    },
  });
  actor.start();
  return actor;
}

/** The cluster part: remote events into the hub, and the hub's local state for other nodes' syncs. */
function joinCluster(cluster: Cluster, actor: HubActor, logger: Logger): void {
  cluster
    .start({
      send: (event) => {
        if (actor.getSnapshot().status === 'active') actor.send(event);
      },
      localState: () => {
        const { clients, topics } = actor.getSnapshot().context;
        const joins: [string, string][] = [];
        for (const [topic] of topics.topics()) for (const id of topics.members(topic).keys()) joins.push([topic, id]);
        // [id] when there is no meta: JSON would turn an undefined into null.
        return {
          clients: [...clients].map(([id, e]) => (e.meta === undefined ? [id] : [id, e.meta]) as [string, unknown]),
          joins,
        };
      },
    })
    .catch((err: unknown) => logger.error({ err }, 'cluster: could not start'));
}

/**
 * A store that delivers what it stored by itself (JetStream's ordered consumer): its messages
 * reach this node's members like a broker's notification would, with their offsets.
 */
function listenToStore(store: HistoryStore, actor: HubActor, resolved: ResolvedOptions): void {
  const limits = { maxBytes: resolved.cluster!.maxEnvelopeBytes, maxTopicLength: resolved.topics.maxTopicLength };
  store.onStored!((notice) => {
    const event = noticeEvent(notice, limits);
    if (event && actor.getSnapshot().status === 'active') actor.send(event);
  });
}

interface Gate {
  readonly wss: WebSocketServer;
  readonly perIp: ConnectionCount;
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
  /** Set by close(): upgrades get 503 from then on. */
  closing: boolean;
}

/** The upgrade gate: admission (path, origin, caps, authentication), then the socket becomes a client. */
function createGate(
  resolved: ResolvedOptions,
  options: HubOptions,
  actor: HubActor,
  stats: HubStats,
  logger: Logger,
): Gate {
  const wss = new WebSocketServer({
    noServer: true,
    clientTracking: false,
    perMessageDeflate: false,
    maxPayload: resolved.maxPayload,
    // ws would answer every ping straight to the socket, past the writer's bounds (a peer that
    // pings and never reads grew the process by gigabytes): the writer answers them instead.
    autoPong: false,
    // Never echo a token-carrying subprotocol; a browser needs some answer when it offered any.
    handleProtocols: selectProtocol(resolved.auth.protocolPrefix),
  });
  const perIp = new ConnectionCount();
  const connectionOptions: WsConnectionOptions = {
    closeTimeoutMs: resolved.closeTimeoutMs,
    writeHighWaterBytes: resolved.writeHighWaterBytes,
    released: (ip) => perIp.release(ip),
  };
  const register = (ws: WebSocket, admission: Admission, ip: string | undefined): void => {
    stats.connectionsTotal++;
    const connection = new WsConnection(ws, connectionOptions, ip);
    if (actor.getSnapshot().status !== 'active') {
      connection.close(CloseCode.GoingAway, 'server shutting down');
      return;
    }
    actor.send({
      type: 'hub.register',
      id: admission.id,
      meta: admission.meta,
      connection,
      limits: admission.limits,
      expiresAt: admission.expiresAt,
      topics: admission.topics,
    });
    // The hub failed on this very registration: the connection never became a client, nobody else would close it.
    if (actor.getSnapshot().status === 'error') connection.close(CloseCode.InternalError, 'internal error');
  };
  const gate: Gate = {
    wss,
    perIp,
    closing: false,
    handleUpgrade: createUpgradeHandler({
      options: resolved,
      authenticate: resolved.auth.tokens ? staticTokenAuth(resolved.auth.tokens, resolved.auth) : options.authenticate,
      generateId: options.generateId ?? randomUUID,
      wss,
      stats,
      logger,
      isClosing: () => gate.closing,
      isRegistered: (id) => actor.getSnapshot().context.clients.has(id),
      size: () => actor.getSnapshot().context.count,
      register,
      perIp,
    }),
  };
  return gate;
}

interface HandleParts extends ActorParts {
  readonly actor: HubActor;
  readonly gate: Gate;
}

/** The handle users hold: commands to the hub actor, reads of its state, attach and close. */
function createHandle(resolved: ResolvedOptions, options: HubOptions, parts: HandleParts): Hub {
  const { actor, protocol, history, cluster, gate, stats, tally, fanout, logger } = parts;
  const { prepare } = protocol;
  const registry = () => actor.getSnapshot().context.clients;
  const servers = new Set<Server>();
  let metrics: Registry | undefined;
  let closed: Promise<void> | undefined;
  const onServerUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    void gate.handleUpgrade(req, socket, head);
  };
  const close = (opts: CloseOptions = {}): Promise<void> => {
    if (closed) return closed;
    // Attached servers keep their listener: upgrades now get 503 instead of the server's 404.
    gate.closing = true;
    const timeoutMs = opts.timeoutMs ?? resolved.shutdownTimeoutMs;
    closed = new Promise<void>((resolve) => {
      let guard: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(guard);
        gate.wss.close();
        // The clients' departures went out first; now leave the cluster, then stop inspecting.
        // The Stately relay, the viewer (which closes a relay it forwards to), or anything with close().
        const inspect = options.inspect as { close?: unknown } | undefined;
        const inspector =
          isHubInspector(options.inspect) || typeof inspect?.close === 'function'
            ? (inspect as { close(): Promise<void> })
            : undefined;
        const finish = (): void => {
          void history.store?.close();
          void (inspector ? inspector.close().then(resolve, resolve) : resolve());
        };
        // Bounded by the shutdown timeout: an unreachable broker must not keep the process alive.
        if (cluster) void cluster.close(timeoutMs).then(finish, finish);
        else finish();
      };
      if (actor.getSnapshot().status !== 'active') return done();
      actor.subscribe({ complete: done, error: done });
      // Terminated sockets report 'close' within a tick; this only guards against a stuck one.
      guard = setTimeout(
        () => {
          logger.warn(
            { clients: actor.getSnapshot().context.count },
            'close(): clients still registered after the timeout; stopping the hub',
          );
          actor.stop();
          done();
        },
        timeoutMs + resolved.closeTimeoutMs + 1_000,
      );
      actor.send({
        type: 'hub.shutdown',
        code: opts.code ?? CloseCode.GoingAway,
        reason: opts.reason ?? 'server shutting down',
        timeoutMs,
      });
    });
    return closed;
  };

  return {
    actor,
    options: resolved,
    stats,
    get metrics() {
      return (metrics ??= createHubMetrics({
        stats,
        tally,
        fanout,
        connections: () => actor.getSnapshot().context.count,
        queues: () => queuesOf(registry()),
        topics: () => actor.getSnapshot().context.topicCount,
        cluster: () => cluster?.stats(),
        history: () => history.store?.stats(),
      }));
    },
    get size() {
      return actor.getSnapshot().context.count;
    },
    get topicCount() {
      return actor.getSnapshot().context.topicCount;
    },
    get state() {
      return actor.getSnapshot().value;
    },
    get failed() {
      return parts.supervisor.failed;
    },
    get closing() {
      return gate.closing;
    },
    connectionsByIp: () => gate.perIp.snapshot(),
    attach(server) {
      if (servers.has(server)) return;
      servers.add(server);
      server.on('upgrade', onServerUpgrade);
    },
    handleUpgrade: gate.handleUpgrade,
    broadcast(message, opts = {}) {
      const data = prepare(message);
      actor.send({
        type: 'hub.broadcast',
        data,
        binary: opts.binary,
        except: opts.except,
      });
    },
    send(clientId, message, opts = {}) {
      const data = prepare(message);
      const known = registry().has(clientId);
      actor.send({
        type: 'hub.send',
        to: clientId,
        data,
        binary: opts.binary,
      });
      return known;
    },
    disconnect(clientId, code = CloseCode.Normal, reason = '') {
      const known = registry().has(clientId);
      actor.send({ type: 'hub.disconnect', id: clientId, code, reason });
      return known;
    },
    has: (clientId) => registry().has(clientId),
    reachable: (clientId) =>
      registry().has(clientId) || actor.getSnapshot().context.remote.nodeOf(clientId) !== undefined,
    forwardedTo: ({ topic, except } = {}) => {
      const remote = actor.getSnapshot().context.remote;
      if (topic === undefined)
        return remote.clientCount - (except !== undefined && remote.nodeOf(except) !== undefined ? 1 : 0);
      const members = remote.members(topic);
      return members.size - (except !== undefined && members.has(except) ? 1 : 0);
    },
    client: (clientId) => {
      const entry = registry().get(clientId);
      return entry && { id: clientId, meta: entry.meta, connectedAt: entry.connectedAt };
    },
    clients: () => [...registry()].map(([id, e]) => ({ id, meta: e.meta, connectedAt: e.connectedAt })),
    isMember: (clientId, topic) => actor.getSnapshot().context.topics.has(clientId, topic),
    publish(topic, message, opts = {}) {
      const data = prepare(message);
      const index = actor.getSnapshot().context.topics;
      const members = index.memberCount(topic) - (opts.except !== undefined && index.has(opts.except, topic) ? 1 : 0);
      actor.send({
        type: 'hub.publish',
        topic,
        data,
        binary: opts.binary,
        except: opts.except,
      });
      return members;
    },
    publishConfirmed(topic, message, opts = {}) {
      const data = prepare(message);
      return new Promise((resolve, reject) => {
        if (actor.getSnapshot().status !== 'active') {
          reject(new PublishError('shutting_down', 'the hub is closed'));
          return;
        }
        const reply = (outcome: PublishOutcome): void =>
          'error' in outcome ? reject(new PublishError(outcome.error, outcome.message)) : resolve(outcome);
        actor.send({
          type: 'hub.publish',
          topic,
          data,
          reply,
          except: opts.except,
        });
      });
    },
    history: (topic, query) => readHistory(history.store, resolved.history.size, history.covers, topic, query),
    keepsHistory: (topic) => history.store !== undefined && history.covers(topic),
    subscribe: (clientId, topic) => actor.send({ type: 'hub.subscribe', id: clientId, topic }),
    unsubscribe: (clientId, topic) => actor.send({ type: 'hub.unsubscribe', id: clientId, topic }),
    topics: () => [...actor.getSnapshot().context.topics.topics()].map(([topic, members]) => ({ topic, members })),
    members: (topic) => {
      const { topics, remote } = actor.getSnapshot().context;
      return [...topics.members(topic).keys(), ...remote.members(topic).keys()];
    },
    presence: (topic) => {
      const { topics, remote } = actor.getSnapshot().context;
      return presenceOf(topics, remote, topic).members;
    },
    clusterStats: () => cluster?.stats(),
    close,
  };
}

/** The registered clients' writers, as the metrics read their queues (this hub builds them: ClientWriter). */
function* queuesOf(clients: ReadonlyMap<ClientId, { readonly writer: Writer }>): Iterable<QueueView> {
  for (const entry of clients.values()) yield entry.writer as ClientWriter;
}

/** A user predicate run inside the hub actor: a throw must not kill the hub, so it counts as false. */
function guardedPredicate(
  predicate: (topic: string) => boolean,
  stats: HubStats,
  logger: { error(o: object, m: string): void },
) {
  return (topic: string): boolean => {
    try {
      return predicate(topic) === true;
    } catch (err) {
      stats.hookErrors++;
      logger.error({ err, topic }, 'presenceEvents predicate threw; no joined/left frames for this event');
      return false;
    }
  };
}

/** The reauthenticate() an authenticate hook carries (jwtAuth's), if any. */
function reauthenticateOf(authenticate: HubOptions['authenticate']): HubOptions['reauthenticate'] {
  const carried = (authenticate as { reauthenticate?: unknown } | undefined)?.reauthenticate;
  return typeof carried === 'function' ? (carried as NonNullable<HubOptions['reauthenticate']>) : undefined;
}
