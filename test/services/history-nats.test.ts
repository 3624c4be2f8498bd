import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll } from 'vitest';
import { natsHistory, natsHistoryStream } from '../../src/history/nats.js';
import { describeHistoryConformance } from '../support/history-conformance.js';
import { NATS_URL, requireService } from './services.js';

beforeAll(() => requireService('NATS', NATS_URL));

/** Deletes this test's own stream (its random prefix): never anything else on the shared NATS. */
async function deleteOwn(prefix: string): Promise<void> {
  const nc = await connect({ servers: NATS_URL });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(natsHistoryStream(prefix)).catch((error: unknown) => {
      if (!/not found/i.test((error as Error).message)) throw error;
    });
  } finally {
    await nc.close();
  }
}

const prefixes = new Set<string>();
afterAll(async () => {
  for (const p of prefixes) await deleteOwn(p);
});

describeHistoryConformance('nats', {
  make: async (settings, shared) => {
    prefixes.add(shared);
    return natsHistory({ url: NATS_URL, prefix: shared, nodeId: `n${prefixes.size}`, ...settings });
  },
  // What deleting the stream (or losing the server's JetStream store) does to this cluster's topics.
  lose: (shared) => deleteOwn(shared),
});
