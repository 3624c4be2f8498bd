import { randomBytes } from 'node:crypto';
import type { ClusterOut, HubRemoteEvent, NodeId } from '../../machines/hub.types.js';
import type { Broker, BrokerState } from './broker/broker.js';
import type { Logger } from '../observability/logger.js';
import { MALFORMED_LOG_EVERY_MS } from '../limits.js';
import {
  encodeWithData,
  makeEnvelopeDecoder,
  syncParts,
  toHubEvent,
  type Envelope,
  type SyncEnvelope,
} from './envelope.js';

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
  /** This node's state (sync) goes out in broker messages of about this many bytes. */
  readonly syncPartBytes: number;
  /** The hub's own topic limit: a longer remote topic could never have a local member. */
  readonly maxTopicLength: number;
  readonly logger: Logger;
}

interface Peer {
  readonly boot: string;
  /** Version of its directory this node has applied; undefined until its first sync arrives. */
  version: number | undefined;
  seen: number;
  /** When this node last asked it for a sync (at most once per heartbeat period). */
  asked: number;
  /** The parts of a sync in several parts received so far (one sync at a time per node). */
  partial?: { readonly v: number; readonly parts: (SyncEnvelope | undefined)[]; got: number } | undefined;
}

/** What the cluster needs from the hub: its events in, and a read of its local state for syncs. */
export interface ClusterHub {
  send(event: HubRemoteEvent): void;
  localState(): { clients: [string, unknown][]; joins: [string, string][] };
}

export interface ClusterStats {
  readonly node: NodeId;
  readonly broker: { kind: string; state: BrokerState; dropped: number };
  readonly nodes: NodeId[];
  /**
   * Broker messages dropped because they were not a valid envelope, plus syncs applied without
   * some malformed entries (docs/scaling.md#the-envelope).
   */
  readonly malformed: number;
  /** This incarnation's boot id, and the version of its local directory (docs/scaling.md#convergence). */
  readonly boot: string;
  readonly version: number;
  /** Syncs this node asked for: at start, after a gap, a version mismatch, a restart or a reconnect. */
  readonly syncRequests: number;
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
  /**
   * This incarnation: a node restarted with the same id is another incarnation, and whatever the
   * others knew of the previous one (its clients) is dropped when they first hear the new one.
   */
  const boot = randomBytes(6).toString('base64url');
  /** The version of this node's local directory: +1 with every presence change it announces. */
  let version = 0;
  /** What this node knows of each other node: its incarnation, the version of its directory applied here, liveness. */
  const peers = new Map<NodeId, Peer>();
  let syncRequests = 0;
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
          broker.publish(ch.all, encodeWithData({ k: 'b', n: nodeId, x: out.except }, out.data, out.binary));
          return;
        case 'publish':
          broker.publish(
            ch.topic(out.topic),
            encodeWithData(
              {
                k: 'p',
                n: nodeId,
                t: out.topic,
                x: out.except,
                f: out.from,
              },
              out.data,
              out.binary,
            ),
          );
          return;
        case 'send':
          broker.publish(
            ch.node(out.node),
            encodeWithData({ k: 's', n: nodeId, to: out.to, f: out.from }, out.data, out.binary),
          );
          return;
        case 'clientUp':
          return post(ch.presence, {
            k: 'c+',
            n: nodeId,
            i: boot,
            v: ++version,
            id: out.id,
            m: out.meta,
          });
        case 'clientDown':
          return post(ch.presence, { k: 'c-', n: nodeId, i: boot, v: ++version, id: out.id });
        case 'joined':
          return post(ch.presence, {
            k: 'j',
            n: nodeId,
            i: boot,
            v: ++version,
            t: out.topic,
            id: out.id,
            m: out.meta,
          });
        case 'left':
          return post(ch.presence, { k: 'l', n: nodeId, i: boot, v: ++version, t: out.topic, id: out.id });
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
    // localState() and version are read together: every announced change is already in the state.
    const { clients, joins } = hub.localState();
    for (const part of syncParts({ n: nodeId, i: boot, v: version }, clients, joins, options.syncPartBytes))
      broker.publish(ch.node(to), part);
  };

  /**
   * A sync in parts is applied once every part of it has arrived, as one: a partial state would
   * make the members of the parts still missing leave and join again. A part of another version
   * starts over (the older one is abandoned; the heartbeat's version check asks again if needed).
   */
  const assemble = (peer: Peer, e: SyncEnvelope): SyncEnvelope | undefined => {
    if (e.of === undefined || e.p === undefined) return e;
    if (peer.partial?.v !== e.v || peer.partial.parts.length !== e.of)
      peer.partial = { v: e.v, parts: new Array<SyncEnvelope | undefined>(e.of), got: 0 };
    const partial = peer.partial;
    if (partial.parts[e.p] === undefined) partial.got++;
    partial.parts[e.p] = e;
    if (partial.got < e.of) return undefined;
    peer.partial = undefined;
    const parts = partial.parts as SyncEnvelope[];
    return {
      ...e,
      c: parts.flatMap((part) => part.c),
      j: parts.flatMap((part) => part.j),
      skipped: parts.reduce((n, part) => n + part.skipped, 0),
    };
  };

  /** Asks a node for its full state, at most once per heartbeat period (its reply replaces what we know). */
  const askSync = (node: NodeId, peer: Peer, now: number): void => {
    if (now - peer.asked < heartbeatMs) return;
    peer.asked = now;
    syncRequests++;
    post(ch.node(node), { k: 'sync?', n: nodeId, i: boot });
  };

  /**
   * Presence converges by versions (Phoenix.Tracker's idea, reduced to one counter per node):
   * each node numbers the presence changes it announces; a change is applied only if it is the
   * next one expected from that incarnation; anything else — a gap (messages lost during a broker
   * cut), a heartbeat whose version differs from what was applied, an unknown node — asks that
   * node for a sync, whose state at version v replaces what was known. A new incarnation (boot
   * id) of a known node id is a restart: the old incarnation's clients are dropped at once.
   */
  const receive = (channel: string, payload: string): void => {
    const decoded = decode(payload);
    if (!decoded.ok) return dropMalformed(channel, payload.length, decoded.why);
    const e = decoded.envelope;
    // A sync's entries that were not valid were skipped by the decoder: the message counts as
    // malformed, and the rest of that node's state is applied (one bad entry must not hide the node's other clients).
    if (e.k === 'sync' && e.skipped > 0)
      dropMalformed(channel, payload.length, `sync: skipped ${e.skipped} malformed entries`);
    if (!hub) return;
    if (e.n === nodeId) {
      // Our own publications never come back, but a history store's notification does (it is
      // delivered to this node's members from here, with its offset, like everyone else's).
      if (e.k === 'p' && e.o !== undefined) {
        const event = toHubEvent(e);
        if (event) hub.send(event);
      }
      return;
    }
    if (e.k === 'b' || e.k === 'p' || e.k === 's') {
      const event = toHubEvent(e);
      if (event) hub.send(event);
      return;
    }
    const now = Date.now();
    let peer = peers.get(e.n);
    if (peer?.boot !== e.i) {
      if (peer) {
        logger.warn({ node: e.n }, 'cluster: node restarted (new incarnation); its previous clients leave presence');
        hub.send({ type: 'hub.remote.nodeDown', node: e.n });
      }
      peer = { boot: e.i, version: undefined, seen: now, asked: -Infinity };
      peers.set(e.n, peer);
    }
    peer.seen = now;
    switch (e.k) {
      case 'sync?':
        sendSync(e.n);
        if (peer.version === undefined) askSync(e.n, peer, now);
        return;
      case 'hb':
        if (peer.version !== e.v) askSync(e.n, peer, now);
        return;
      case 'sync': {
        // A sync older than what was applied since (it crossed newer changes) is stale.
        if (peer.version !== undefined && e.v < peer.version) return;
        const whole = assemble(peer, e);
        if (!whole) return;
        peer.version = e.v;
        const event = toHubEvent(whole);
        if (event) hub.send(event);
        return;
      }
      default: {
        if (peer.version !== undefined && e.v <= peer.version) return; // already applied (in a sync)
        if (peer.version === undefined || e.v !== peer.version + 1) return askSync(e.n, peer, now);
        peer.version = e.v;
        const event = toHubEvent(e);
        if (event) hub.send(event);
      }
    }
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

  broker.onState((state) => {
    logger.warn({ state, kind: broker.kind, node: nodeId }, `cluster: broker connection ${state}`);
    // Back after a cut: what was announced meanwhile was lost both ways. Ask everyone for their
    // state now and announce our version (they ask us back if it differs) instead of waiting.
    if (state === 'up' && hub) {
      post(ch.presence, { k: 'sync?', n: nodeId, i: boot });
      post(ch.presence, { k: 'hb', n: nodeId, i: boot, v: version });
    }
  });

  return {
    nodeId,
    forward,
    /** Resolves once every channel (un)subscription asked for so far is in effect on the broker. */
    ready: () => broker.ready(),
    /** Starts exchanging with the cluster on behalf of this hub. */
    async start(h: ClusterHub): Promise<void> {
      hub = h;
      broker.subscribe(ch.all);
      broker.subscribe(ch.presence);
      broker.subscribe(ch.node(nodeId));
      await broker.ready();
      post(ch.presence, { k: 'sync?', n: nodeId, i: boot });
      timer = setInterval(() => {
        post(ch.presence, { k: 'hb', n: nodeId, i: boot, v: version });
        const now = Date.now();
        for (const [node, peer] of peers) {
          if (now - peer.seen > nodeTimeoutMs) {
            peers.delete(node);
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
        nodes: [...peers.keys()],
        malformed,
        boot,
        version,
        syncRequests,
      };
    },
    /**
     * Leaves the cluster and closes the broker, waiting at most `timeoutMs` for it (a broker that
     * is unreachable may never answer a goodbye: shutdown must not hang on it). Idempotent (a
     * failed hub leaves at once, close() later again).
     */
    close(timeoutMs = Number.POSITIVE_INFINITY): Promise<void> {
      clearInterval(timer);
      hub = undefined;
      closing ??= broker.close().catch((err: unknown) => logger.warn({ err }, 'cluster: broker close failed'));
      if (!Number.isFinite(timeoutMs)) return closing;
      let bound: NodeJS.Timeout | undefined;
      return Promise.race([
        closing,
        new Promise<void>((resolve) => {
          bound = setTimeout(() => {
            logger.warn({ timeoutMs, kind: broker.kind }, 'cluster: the broker did not close in time; leaving anyway');
            resolve();
          }, timeoutMs);
          bound.unref();
        }),
      ]).finally(() => clearTimeout(bound));
    },
  };
}

export type Cluster = ReturnType<typeof createCluster>;
