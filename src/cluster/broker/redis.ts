import { Redis } from 'ioredis';
import { reconnectDelayMs } from './backoff.js';
import type { Broker, BrokerState } from './broker.js';

export interface RedisBrokerOptions {
  readonly url: string;
  /** Prefixed to every payload so this node can drop its own publications (Redis echoes them). */
  readonly nodeId: string;
}

/**
 * Redis pub/sub (ioredis): one connection publishes, one subscribes (a subscribed Redis
 * connection can do nothing else). Publishing while disconnected is dropped and counted:
 * the offline queue is off, so an outage cannot grow memory. ioredis reconnects with the
 * shared backoff and re-subscribes every channel itself.
 */
export async function redisBroker(options: RedisBrokerOptions): Promise<Broker> {
  const common = {
    lazyConnect: true,
    retryStrategy: (times: number) => reconnectDelayMs(times - 1),
    maxRetriesPerRequest: null,
  };
  // No resending either: ioredis would otherwise replay, after the reconnect, publishes that were
  // written before the cut and never answered — late (out of order) or twice. At-most-once means drop them.
  const pub = new Redis(options.url, {
    ...common,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    connectionName: `actorhub-pub-${options.nodeId}`,
  });
  const sub = new Redis(options.url, {
    ...common,
    autoResubscribe: true,
    connectionName: `actorhub-sub-${options.nodeId}`,
  });
  const prefix = `${options.nodeId}|`;
  const channels = new Set<string>();
  const pending = new Set<Promise<unknown>>();
  let handler: (channel: string, payload: string) => void = () => undefined;
  const stateHandlers: ((s: BrokerState) => void)[] = [];
  let state: BrokerState = 'connecting';
  let dropped = 0;

  const recompute = (): void => {
    if (state === 'closed') return;
    const next: BrokerState = pub.status === 'ready' && sub.status === 'ready' ? 'up' : 'down';
    if (next !== state) {
      state = next;
      for (const h of stateHandlers) h(state);
    }
  };
  for (const conn of [pub, sub]) {
    conn.on('ready', recompute);
    conn.on('close', recompute);
    conn.on('reconnecting', recompute);
    conn.on('end', recompute);
    conn.on('error', () => undefined); // reported through state; ioredis keeps retrying
  }
  sub.on('message', (channel: string, message: string) => {
    if (message.startsWith(prefix)) return; // our own publication
    // `<sender>|<envelope>`; without the framing the whole message goes on, so that the cluster
    // adapter's decoder drops it and counts it as malformed like any other hostile payload.
    const bar = message.indexOf('|');
    // A throw here would surface inside ioredis' parser and exit the process: never let one out.
    try {
      handler(channel, bar < 0 ? message : message.slice(bar + 1));
    } catch {
      // The cluster adapter counts what it cannot use; a handler that still throws loses that one message.
    }
  });

  const track = (p: Promise<unknown>): void => {
    const q = p.catch(() => undefined).finally(() => pending.delete(q));
    pending.add(q);
  };

  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (error) {
    pub.disconnect();
    sub.disconnect();
    throw new Error(`cannot connect to Redis at ${options.url}: ${(error as Error).message}`, { cause: error });
  }
  recompute();

  return {
    kind: 'redis',
    get state() {
      return state;
    },
    get dropped() {
      return dropped;
    },
    publish(channel, payload) {
      if (pub.status !== 'ready') {
        dropped++;
        return;
      }
      pub.publish(channel, prefix + payload).catch(() => void dropped++);
    },
    subscribe(channel) {
      if (channels.has(channel)) return;
      channels.add(channel);
      track(sub.subscribe(channel));
    },
    unsubscribe(channel) {
      if (!channels.delete(channel)) return;
      track(sub.unsubscribe(channel));
    },
    onMessage: (h) => void (handler = h),
    onState: (h) => void stateHandlers.push(h),
    // The subscriptions asked for, then a PING on the subscriber connection: its answer comes after
    // every message Redis published to this node before it (a fence, clusterHistory's seam).
    ready: async () => {
      await Promise.all([...pending]);
      if (sub.status === 'ready') await sub.ping().catch(() => undefined);
    },
    async close() {
      state = 'closed';
      // QUIT only where it can be answered: on a connection that is reconnecting, ioredis would
      // queue it (the subscriber has an offline queue) and never settle — SIGTERM during an outage hung.
      await Promise.allSettled([pub, sub].filter((c) => c.status === 'ready').map((c) => c.quit()));
      pub.disconnect();
      sub.disconnect();
    },
  };
}
