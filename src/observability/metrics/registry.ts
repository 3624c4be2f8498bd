import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { BrokerState } from '../../cluster/broker/broker.js';
import type { ClusterStats } from '../../cluster/cluster.js';
import type { HubStats } from '../stats.js';
import type { HistoryStoreStats } from '../../history/store.js';
import type { FanoutTimes, TimeHistogram } from './fanout.js';
import { ClientTally, type QueueView } from './tally.js';

/** What the metrics read, at scrape time only. */
export interface MetricsSource {
  readonly stats: Readonly<HubStats>;
  readonly tally: ClientTally;
  readonly fanout: FanoutTimes;
  connections(): number;
  /** Every connected client's outbound queue (their writers). */
  queues(): Iterable<QueueView>;
  topics(): number;
  /** Undefined on a single node; the cluster metrics are registered only when it is not. */
  cluster(): ClusterStats | undefined;
  /** Undefined without history; the history metrics are registered only when it is on. */
  history?(): HistoryStoreStats | undefined;
}

const BROKER_STATES: readonly BrokerState[] = ['connecting', 'up', 'down', 'closed'];

type Values = { value: number; labels: Record<string, string | number>; metricName?: string }[];

/** A prom-client Histogram whose values come from TimeHistograms kept as plain numbers. */
class PlainHistograms extends Histogram<'kind'> {
  readonly #name: string;
  readonly #help: string;
  readonly #sources: Record<string, TimeHistogram>;

  constructor(name: string, help: string, registry: Registry, sources: Record<string, TimeHistogram>) {
    super({ name, help, labelNames: ['kind'], registers: [registry] });
    this.#name = name;
    this.#help = help;
    this.#sources = sources;
  }

  #values(): Values {
    const name = this.#name;
    const values: Values = [];
    for (const [kind, h] of Object.entries(this.#sources)) {
      let cumulative = 0;
      h.bounds.forEach((le, i) => {
        cumulative += h.counts[i]!;
        values.push({ metricName: `${name}_bucket`, labels: { le, kind }, value: cumulative });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf', kind }, value: h.count });
      values.push({ metricName: `${name}_sum`, labels: { kind }, value: h.sum });
      values.push({ metricName: `${name}_count`, labels: { kind }, value: h.count });
    }
    return values;
  }

  override async get() {
    return this.getForPromString();
  }

  // prom-client's registry prefers this method when a metric has it.
  async getForPromString() {
    return {
      name: this.#name,
      help: this.#help,
      type: 'histogram',
      values: this.#values(),
      aggregator: 'sum',
    } as unknown as Awaited<ReturnType<Histogram<'kind'>['get']>>;
  }
}

/**
 * A prom-client Registry for one hub (never the global one: several hubs may share a
 * process). Every value is read from the hub's plain counters in collect(), at scrape time,
 * so the hot path pays its one increment and nothing more.
 */
export function createHubMetrics(src: MetricsSource): Registry {
  const registry = new Registry();
  const registers = [registry];
  const { stats, tally } = src;

  const gauge = (name: string, help: string, read: () => number): void =>
    void new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  const counter = (name: string, help: string, read: () => number): void =>
    void new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });

  gauge('actorhub_connections', 'Clients connected to this hub now.', () => src.connections());
  counter('actorhub_connects_total', 'Clients accepted (handshake done, registered).', () => tally.connects);
  new Counter({
    name: 'actorhub_disconnects_total',
    help: 'Clients gone, by reason (fixed set, docs/observability.md) and close code (RFC 6455 codes and 4008/4009 as they are, others as 3xxx/4xxx/other).',
    labelNames: ['reason', 'code'],
    registers,
    collect() {
      this.reset();
      for (const d of tally.disconnects.values()) this.inc({ reason: d.reason, code: d.code }, d.count);
    },
  });
  new Counter({
    name: 'actorhub_upgrades_rejected_total',
    help: 'Upgrade requests refused before the handshake, by HTTP status (404 path, 403 origin, 401/403/429 authentication, 409 duplicate id, 500 hook failure, 503 full/closing/auth timeout).',
    labelNames: ['status'],
    registers,
    collect() {
      this.reset();
      for (const [status, n] of Object.entries(stats.rejectedByStatus)) this.inc({ status }, n);
    },
  });
  counter('actorhub_messages_received_total', 'Messages received from clients.', () => stats.messagesIn);
  counter('actorhub_received_bytes_total', 'Payload bytes of the messages received from clients.', () => stats.bytesIn);
  counter(
    'actorhub_messages_sent_total',
    'Frames written to client sockets (one per recipient).',
    () => stats.messagesOut,
  );
  counter('actorhub_sent_bytes_total', 'Bytes of the frames written to client sockets.', () => stats.bytesOut);
  counter(
    'actorhub_messages_dropped_total',
    'Frames discarded by an overflow policy (drop-oldest, drop-newest, or the queue of a client closed as a slow consumer).',
    () => stats.dropped,
  );
  counter('actorhub_pings_sent_total', 'Heartbeat pings sent.', () => stats.pingsSent);
  counter(
    'actorhub_rate_limited_total',
    'Inbound messages and control frames dropped by a client’s rate limit.',
    () => stats.rateLimited,
  );
  counter(
    'actorhub_rate_limit_closes_total',
    'Clients closed with 1008 for exceeding their rate limit persistently.',
    () => stats.rateLimitCloses,
  );
  counter(
    'actorhub_control_frames_received_total',
    'Pings, and pongs that answered no heartbeat, received from clients.',
    () => stats.controlFramesIn,
  );
  counter(
    'actorhub_control_frames_dropped_total',
    'Control frames dropped unanswered by the per-client control-frame limit.',
    () => stats.controlFramesDropped,
  );
  counter(
    'actorhub_control_flood_closes_total',
    'Clients closed with 1008 for flooding control frames.',
    () => stats.controlFloodCloses,
  );
  counter('actorhub_pongs_sent_total', 'Pongs written in answer to clients’ pings.', () => stats.pongsSent);
  counter(
    'actorhub_pongs_coalesced_total',
    'Pings left unanswered because a later one arrived while the socket was backed up (the latest is answered).',
    () => stats.pongsCoalesced,
  );
  counter(
    'actorhub_hub_errors_total',
    'Exceptions inside hub actions caught by supervision (the event was dropped, the hub went on).',
    () => stats.hubErrors,
  );
  counter(
    'actorhub_hub_failures_total',
    'Hub actor failures supervision could not catch (1: every client was closed with 1011, /healthz answers 503).',
    () => stats.hubFailures,
  );
  counter(
    'actorhub_hook_errors_total',
    'User hooks (authenticate, onMessage, canSubscribe, canPublish) that threw or rejected.',
    () => stats.hookErrors,
  );

  // Outbound queues: one pass over every client per scrape, shared by the four gauges.
  let depth: ReturnType<typeof ClientTally.queueDepth> | undefined;
  const sample = (): NonNullable<typeof depth> => {
    if (!depth) {
      depth = ClientTally.queueDepth(src.queues());
      setImmediate(() => (depth = undefined));
    }
    return depth;
  };
  gauge(
    'actorhub_outbound_queue_max_messages',
    'Longest outbound queue of any client now, messages (sampled at scrape).',
    () => sample().max,
  );
  gauge('actorhub_outbound_queued_messages', 'Messages waiting in all outbound queues now.', () => sample().messages);
  gauge('actorhub_outbound_queued_bytes', 'Bytes waiting in all outbound queues now.', () => sample().bytes);
  gauge(
    'actorhub_outbound_backlogged_clients',
    'Clients whose outbound queue is not empty now.',
    () => sample().backlogged,
  );

  new PlainHistograms(
    'actorhub_fanout_seconds',
    'Time to dispatch one message in the hub (frame once, hand to every local recipient), by kind (broadcast, publish).',
    registry,
    { broadcast: src.fanout.broadcast, publish: src.fanout.publish },
  );
  gauge('actorhub_topics', 'Topics with at least one local member now.', () => src.topics());

  if (src.cluster()) {
    const cluster = (): ClusterStats => src.cluster()!;
    new Gauge({
      name: 'actorhub_broker_state',
      help: 'The broker connection: 1 for the current state, 0 for the others.',
      labelNames: ['state', 'kind'],
      registers,
      collect() {
        const { broker } = cluster();
        for (const state of BROKER_STATES) this.set({ state, kind: broker.kind }, state === broker.state ? 1 : 0);
      },
    });
    gauge('actorhub_broker_up', '1 while the broker connection is up, else 0.', () =>
      cluster().broker.state === 'up' ? 1 : 0,
    );
    counter(
      'actorhub_broker_dropped_total',
      'Messages for other nodes dropped while the broker was down.',
      () => cluster().broker.dropped,
    );
    gauge('actorhub_cluster_nodes', 'Other nodes this node hears from now.', () => cluster().nodes.length);
    counter(
      'actorhub_cluster_malformed_total',
      'Broker messages dropped because they were not valid envelopes.',
      () => cluster().malformed,
    );
  }
  if (src.history?.()) {
    const history = (): HistoryStoreStats => src.history!()!;
    gauge('actorhub_history_streams', 'Topic streams the history store holds now.', () => history().streams ?? 0);
    gauge('actorhub_history_messages', 'Messages the history store holds now.', () => history().messages ?? 0);
    gauge(
      'actorhub_history_bytes',
      'Approximate bytes of the messages the history store holds now.',
      () => history().bytes ?? 0,
    );
    counter(
      'actorhub_history_evicted_total',
      'Streams dropped because the store held its maximum (least recently published first): their epoch ends.',
      () => history().evicted ?? 0,
    );
    counter(
      'actorhub_history_expired_total',
      'Streams dropped because nothing was published to them for the history TTL: their epoch ends.',
      () => history().expired ?? 0,
    );
    counter(
      'actorhub_history_append_failures_total',
      'Publishes into history topics that could not be stored (answered unavailable).',
      () => history().failed,
    );
  }
  return registry;
}
