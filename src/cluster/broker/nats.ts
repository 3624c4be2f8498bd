import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { RECONNECT_BASE_MS } from './backoff.js';
import type { Broker, BrokerState } from './broker.js';

export interface NatsBrokerOptions {
  readonly url: string;
  readonly nodeId: string;
}

/** Channel names may hold characters NATS subjects cannot ('.' runs, empty tokens): encode them. */
const subjectOf = (channel: string): string => `actorhub.${Buffer.from(channel).toString('base64url')}`;

/**
 * NATS core pub/sub (@nats-io/transport-node). `noEcho` gives no self-delivery; the client
 * reconnects forever (a fixed 200 ms wait with jitter) and restores subscriptions. Publishing while
 * disconnected is dropped and counted, not buffered, so an outage cannot grow memory.
 */
export async function natsBroker(options: NatsBrokerOptions): Promise<Broker> {
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url,
      name: `actorhub-${options.nodeId}`,
      noEcho: true,
      maxReconnectAttempts: -1,
      // nats.js stalls when given a reconnectDelayHandler (measured: it never reconnects), so
      // NATS keeps its own fixed wait with jitter; Redis and start-up use the shared Schedule.
      reconnectTimeWait: RECONNECT_BASE_MS * 2,
      reconnectJitter: RECONNECT_BASE_MS,
      pingInterval: 5_000,
    });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${options.url}: ${(error as Error).message}`, { cause: error });
  }
  const subs = new Map<string, Subscription>();
  let handler: (channel: string, payload: string) => void = () => undefined;
  const stateHandlers: ((s: BrokerState) => void)[] = [];
  let state: BrokerState = 'up';
  let dropped = 0;
  const setState = (next: BrokerState): void => {
    if (state === next || state === 'closed') return;
    state = next;
    for (const h of stateHandlers) h(state);
  };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') setState('down');
      else if (s.type === 'reconnect') setState('up');
    }
  })();
  const decoder = new TextDecoder();

  return {
    kind: 'nats',
    get state() {
      return state;
    },
    get dropped() {
      return dropped;
    },
    publish(channel, payload) {
      if (state !== 'up') {
        dropped++;
        return;
      }
      try {
        nc.publish(subjectOf(channel), payload);
      } catch {
        dropped++;
      }
    },
    subscribe(channel) {
      if (subs.has(channel)) return;
      subs.set(
        channel,
        nc.subscribe(subjectOf(channel), {
          // A throw out of this callback ends the subscription (the node goes deaf): never let one out.
          callback: (err, msg) => {
            if (err) return;
            try {
              handler(channel, decoder.decode(msg.data));
            } catch {
              // The cluster adapter counts what it cannot use; a handler that still throws loses that one message.
            }
          },
        }),
      );
    },
    unsubscribe(channel) {
      subs.get(channel)?.unsubscribe();
      subs.delete(channel);
    },
    onMessage: (h) => void (handler = h),
    onState: (h) => void stateHandlers.push(h),
    // A flush round trip: the server has processed every SUB/UNSUB sent before it.
    ready: async () => {
      if (state === 'up') await nc.flush();
    },
    async close() {
      state = 'closed';
      await nc.drain().catch(() => nc.close());
    },
  };
}
