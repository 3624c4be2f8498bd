import type { Broker, BrokerState } from './broker.js';

/** An in-process bus: several hubs in one process can share it (tests, examples). */
export interface MemoryBus {
  readonly nodes: Set<MemoryBroker>;
}

export const createMemoryBus = (): MemoryBus => ({ nodes: new Set() });

interface MemoryBroker extends Broker {
  deliver(channel: string, payload: string): void;
}

/**
 * The embedded broker: delivery on the next tick, in publish order, to every other node of
 * the same bus subscribed to the channel. It cannot go down, so `dropped` stays 0.
 */
export function memoryBroker(bus: MemoryBus): Broker {
  const channels = new Set<string>();
  let handler: (channel: string, payload: string) => void = () => undefined;
  let state: BrokerState = 'up';
  const self: MemoryBroker = {
    kind: 'memory',
    get state() {
      return state;
    },
    dropped: 0,
    publish(channel, payload) {
      if (state === 'closed') return;
      for (const node of bus.nodes) if (node !== self) node.deliver(channel, payload);
    },
    deliver(channel, payload) {
      if (!channels.has(channel)) return;
      queueMicrotask(() => channels.has(channel) && state !== 'closed' && handler(channel, payload));
    },
    subscribe: (channel) => void channels.add(channel),
    unsubscribe: (channel) => void channels.delete(channel),
    onMessage: (h) => void (handler = h),
    onState: () => undefined,
    ready: () => Promise.resolve(),
    async close() {
      state = 'closed';
      bus.nodes.delete(self);
    },
  };
  bus.nodes.add(self);
  return self;
}
