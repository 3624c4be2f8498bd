/** The services the service suite needs; .ci/run starts them when they are not answering. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

import net from 'node:net';
import type { Broker } from '../../src/cluster/broker/broker.js';

/** Fails with a sentence naming the service when nothing answers at the URL: a service test never skips. */
export async function requireService(name: string, url: string): Promise<void> {
  const { hostname, port } = new URL(url);
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => (socket.end(), resolve()));
    socket.setTimeout(2_000, () => socket.destroy(new Error('timed out')));
    socket.once('error', (err) =>
      reject(
        new Error(
          `${name} is not answering at ${url} (${err.message}). The service suite needs it: .ci/run starts it, or start it by hand.`,
        ),
      ),
    );
  });
}

/** Resolves once the broker reports `wanted` (at once if it already does). */
export const whenBrokerState = (broker: Broker, wanted: string): Promise<void> =>
  new Promise<void>((resolve) =>
    broker.state === wanted ? resolve() : broker.onState((s) => s === wanted && resolve()),
  );
