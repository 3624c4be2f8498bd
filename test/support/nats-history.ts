import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsHistoryStream } from '../../src/history/nats.js';

/**
 * Deletes the JetStream history stream of one cluster prefix (a test's own random prefix: never
 * anything else on the shared NATS). A stream that is already gone is fine.
 */
export async function deleteHistoryStream(url: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(natsHistoryStream(prefix)).catch((error: unknown) => {
      if (!/not found/i.test((error as Error).message)) throw error;
    });
  } finally {
    await nc.close();
  }
}
