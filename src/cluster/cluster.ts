import type { ClusterOut, HubRemoteEvent, NodeId } from '../../machines/hub.types.js';
import type { Broker, BrokerState } from './broker/broker.js';
import type { Logger } from '../observability/logger.js';
import { encodeWithData, makeEnvelopeDecoder, toHubEvent, type Envelope } from './envelope.js';

/** Resolved by resolveOptions (src/options.ts): defaults from src/limits.ts, the timing invariant checked there. */
export interface ClusterOptions {
  readonly broker: Broker;
  readonly nodeId: NodeId;
  /** Channel prefix, so several independent clusters can share one Redis or NATS. */
  readonly prefix: string;
  readonly heartbeatMs: number;
  readonly nodeTimeoutMs: number;
  /** What an inbound broker message may hold; beyond it, it is dropped and counted. */
  readonly maxEnvelopeBytes: number;
  readonly maxEnvelopeDepth: number;
  /** The hub's own topic limit: a longer remote topic could never have a local member. */
  readonly maxTopicLength: number;
  readonly logger: Logger;
}

/** A flood of bad messages must not become a flood of log lines: one warning per this period, with the count. */
const MALFORMED_LOG_EVERY_MS = 10_000;

/** What the cluster needs from the hub: its events in, and a read of its local state for syncs. */
export interface ClusterHub {
  send(event: HubRemoteEvent): void;
  localState(): { clients: [string, unknown][]; joins: [string, string][] };
}

export interface ClusterStats {
  readonly node: NodeId;
  readonly broker: { kind: string; state: BrokerState; dropped: number };
  readonly nodes: NodeId[];
  /** Broker messages dropped because they were not a valid envelope (docs/scaling.md#the-envelope). */
  readonly malformed: number;
}

/**
 * Connects one hub to its cluster through a Broker. Outgoing: `forward(out)` turns what the
 * hub reports (ClusterOut) into envelopes on the right channel — `all` for broadcasts,
 * `topic:<t>` for publishes (subscribed only while the topic has local members),
 * `node:<id>` for direct sends and sync replies, `presence` for client/topic membership and
 * heartbeats. Incoming: envelopes become hub.remote.* events. It also keeps node liveness:
 * heartbeats every heartbeatMs, and a node silent for nodeTimeoutMs is reported down.
 */
export function createCluster(options: ClusterOptions) {
  const { broker, nodeId, logger, prefix, heartbeatMs, nodeTimeoutMs } = options;
  const ch = {
    all: `${prefix}:all`,
    presence: `${prefix}:presence`,
    node: (id: NodeId) => `${prefix}:node:${id}`,
    topic: (t: string) => `${prefix}:topic:${t}`,
  };
  const lastSeen = new Map<NodeId, number>();
  let hub: ClusterHub | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closing: Promise<void> | undefined;
  let malformed = 0;
  let malformedLoggedAt = -Infinity;
  let malformedSinceLog = 0;
  const decode = makeEnvelopeDecoder({
    maxBytes: options.maxEnvelopeBytes,
    maxDepth: options.maxEnvelopeDepth,
    maxTopicLength: options.maxTopicLength,
  });

  const dropMalformed = (channel: string, bytes: number, why: string): void => {
    malformed++;
    malformedSinceLog++;
    const now = Date.now();
    if (now - malformedLoggedAt < MALFORMED_LOG_EVERY_MS) return;
    logger.warn(
      { channel, bytes, why, dropped: malformedSinceLog, malformed },
      'cluster: dropped broker messages that are not valid envelopes',
    );
    malformedLoggedAt = now;
    malformedSinceLog = 0;
  };

  const post = (channel: string, e: Envelope): void => broker.publish(channel, JSON.stringify(e));

  const forward = (out: ClusterOut): void => {
    try {
      switch (out.kind) {
        case 'broadcast':
          broker.publish(
            ch.all,
            encodeWithData(
              { k: 'b', n: nodeId, ...(out.except === undefined ? {} : { x: out.except }) },
              out.data,
              out.binary,
            ),
          );
          return;
        case 'publish':
          broker.publish(
            ch.topic(out.topic),
            encodeWithData(
              {
                k: 'p',
                n: nodeId,
                t: out.topic,
                ...(out.except === undefined ? {} : { x: out.except }),
                ...(out.from === undefined ? {} : { f: out.from }),
              },
              out.data,
              out.binary,
            ),
          );
          return;
        case 'send':
          broker.publish(
            ch.node(out.node),
            encodeWithData(
              { k: 's', n: nodeId, to: out.to, ...(out.from === undefined ? {} : { f: out.from }) },
              out.data,
              out.binary,
            ),
          );
          return;
        case 'clientUp':
          return post(ch.presence, {
            k: 'c+',
            n: nodeId,
            id: out.id,
            ...(out.meta === undefined ? {} : { m: out.meta }),
          });
        case 'clientDown':
          return post(ch.presence, { k: 'c-', n: nodeId, id: out.id });
        case 'joined':
          return post(ch.presence, {
            k: 'j',
            n: nodeId,
            t: out.topic,
            id: out.id,
            ...(out.meta === undefined ? {} : { m: out.meta }),
          });
        case 'left':
          return post(ch.presence, { k: 'l', n: nodeId, t: out.topic, id: out.id });
        case 'topicOpened':
          return broker.subscribe(ch.topic(out.topic));
        case 'topicClosed':
          return broker.unsubscribe(ch.topic(out.topic));
      }
    } catch (err) {
      logger.warn({ err, kind: out.kind }, 'cluster: could not forward a message');
    }
  };

  const sendSync = (to: NodeId): void => {
    if (!hub) return;
    const { clients, joins } = hub.localState();
    post(ch.node(to), { k: 'sync', n: nodeId, c: clients, j: joins });
  };

  const receive = (channel: string, payload: string): void => {
    const decoded = decode(payload);
    if (!decoded.ok) return dropMalformed(channel, payload.length, decoded.why);
    const e = decoded.envelope;
    if (e.n === nodeId || !hub) return;
    const known = lastSeen.has(e.n);
    lastSeen.set(e.n, Date.now());
    if (e.k === 'sync?') return sendSync(e.n);
    // A node we did not know (new, or back after an outage): ask for its full state.
    if (!known && e.k !== 'sync') post(ch.node(e.n), { k: 'sync?', n: nodeId });
    const event = toHubEvent(e);
    if (event) hub.send(event);
  };

  // Whatever arrives, nothing may escape into the broker client's own handler: a throw there
  // exits the process (ioredis) or ends the subscription (NATS).
  broker.onMessage((channel, payload) => {
    try {
      receive(channel, typeof payload === 'string' ? payload : String(payload));
    } catch (err) {
      dropMalformed(channel, String(payload).length, `handler failed: ${(err as Error)?.message ?? String(err)}`);
    }
  });

  broker.onState((state) =>
    logger.warn({ state, kind: broker.kind, node: nodeId }, `cluster: broker connection ${state}`),
  );

  return {
    nodeId,
    forward,
    /** Starts exchanging with the cluster on behalf of this hub. */
    async start(h: ClusterHub): Promise<void> {
      hub = h;
      broker.subscribe(ch.all);
      broker.subscribe(ch.presence);
      broker.subscribe(ch.node(nodeId));
      await broker.ready();
      post(ch.presence, { k: 'sync?', n: nodeId });
      timer = setInterval(() => {
        post(ch.presence, { k: 'hb', n: nodeId });
        const now = Date.now();
        for (const [node, seen] of lastSeen) {
          if (now - seen > nodeTimeoutMs) {
            lastSeen.delete(node);
            logger.warn({ node }, 'cluster: node timed out; its clients leave presence');
            hub?.send({ type: 'hub.remote.nodeDown', node });
          }
        }
      }, heartbeatMs);
      timer.unref();
    },
    stats(): ClusterStats {
      return {
        node: nodeId,
        broker: { kind: broker.kind, state: broker.state, dropped: broker.dropped },
        nodes: [...lastSeen.keys()],
        malformed,
      };
    },
    /** Leaves the cluster and closes the broker; idempotent (a failed hub leaves at once, close() later again). */
    close(): Promise<void> {
      clearInterval(timer);
      hub = undefined;
      return (closing ??= broker.close());
    },
  };
}

export type Cluster = ReturnType<typeof createCluster>;
