import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
// Everything the embedder needs, from the package's public entry only (what an application can import).
import { createHub, natsBroker, natsHistory, redisBroker, redisHistory, type Hub } from '../../src/index.js';
import { connectJson } from '../support/json-client.js';
import { deleteHistoryStream } from '../support/nats-history.js';
import { silentLogger } from '../support/ws-client.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';
import { uniquePrefix } from '../support/hub-process.js';

beforeAll(async () => {
  await requireService('Redis', REDIS_URL);
  await requireService('NATS', NATS_URL);
});

const running: { hub: Hub; server: http.Server }[] = [];
const prefix = uniquePrefix('emb');

afterEach(async () => {
  for (const { hub, server } of running.splice(0)) {
    await hub.close({ timeoutMs: 200 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  // This test's own keys and stream only (its random prefix), never anything else on the shared brokers.
  const admin = new Redis(REDIS_URL);
  try {
    const keys = await admin.keys(`${prefix}:h:*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    admin.disconnect();
  }
  await deleteHistoryStream(NATS_URL, prefix);
});

const HISTORY = { size: 100, ttlMs: 60_000 };

/** One node as an embedder builds it: a broker and a shared history store, both from 'actorhub'. */
async function node(kind: 'redis' | 'nats', nodeId: string): Promise<string> {
  const url = kind === 'redis' ? REDIS_URL : NATS_URL;
  const broker = kind === 'redis' ? await redisBroker({ url, nodeId }) : await natsBroker({ url, nodeId });
  const store =
    kind === 'redis'
      ? await redisHistory({ url, nodeId, prefix, ...HISTORY })
      : await natsHistory({ url, nodeId, prefix, ...HISTORY });
  const hub = createHub({
    logger: silentLogger,
    cluster: { broker, nodeId, prefix },
    history: { ...HISTORY, store },
  });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  hub.attach(server);
  running.push({ hub, server });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}${hub.options.path}`;
}

describe('a cluster hub with history, built from the public entry', () => {
  for (const kind of ['redis', 'nats'] as const) {
    it(`${kind}History is exported: two nodes number one stream and frames carry its offset and epoch`, async () => {
      const [a, b] = [await node(kind, 'emb-a'), await node(kind, 'emb-b')];
      const { client: sub } = await connectJson(a);
      const { client: pub } = await connectJson(b);
      const ack = await sub.call({ type: 'subscribe', topic: 'news' });
      expect(ack).toMatchObject({ type: 'ack', result: { offset: 0, epoch: expect.any(String) } });
      const epoch = (ack as { result: { epoch: string } }).result.epoch;

      const published = await pub.call({ type: 'publish', topic: 'news', data: 'hello' });
      expect(published).toMatchObject({ type: 'ack', result: { offset: 1 } });
      // The epoch comes with the store's notification: Redis's broker message, JetStream's notice.
      expect(await sub.next('message')).toEqual({
        type: 'message',
        topic: 'news',
        from: expect.any(String),
        offset: 1,
        epoch,
        data: 'hello',
      });
    });
  }
});
