import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
// Everything the embedder needs, from the package's public entry only (issue 13).
import { createHub, redisBroker, redisHistory, type Hub } from '../../src/index.js';
import { connectJson } from '../support/json-client.js';
import { silentLogger } from '../support/ws-client.js';
import { REDIS_URL, requireService } from './services.js';

beforeAll(() => requireService('Redis', REDIS_URL));

const running: { hub: Hub; server: http.Server }[] = [];
const prefix = `emb${process.pid}x${Date.now().toString(36)}`;

afterEach(async () => {
  for (const { hub, server } of running.splice(0)) {
    await hub.close({ timeoutMs: 200 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  // This test's own keys only (its random prefix), never anything else on the shared Redis.
  const admin = new Redis(REDIS_URL);
  try {
    const keys = await admin.keys(`${prefix}:h:*`);
    if (keys.length > 0) await admin.del(...keys);
  } finally {
    admin.disconnect();
  }
});

/** One node as an embedder builds it: a Redis broker and a Redis history store, both from 'actorhub'. */
async function node(nodeId: string): Promise<string> {
  const history = { size: 100, ttlMs: 60_000 };
  const hub = createHub({
    logger: silentLogger,
    cluster: { broker: await redisBroker({ url: REDIS_URL, nodeId }), nodeId, prefix },
    history: { ...history, store: await redisHistory({ url: REDIS_URL, nodeId, prefix, ...history }) },
  });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  hub.attach(server);
  running.push({ hub, server });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}${hub.options.path}`;
}

describe('a cluster hub with history, built from the public entry', () => {
  it('redisHistory is exported: two nodes number one stream and frames carry its offset and epoch', async () => {
    const [a, b] = [await node('emb-a'), await node('emb-b')];
    const { client: sub } = await connectJson(a);
    const { client: pub } = await connectJson(b);
    const ack = await sub.call({ type: 'subscribe', topic: 'news' });
    expect(ack).toMatchObject({ type: 'ack', result: { offset: 0, epoch: expect.any(String) } });
    const epoch = (ack as { result: { epoch: string } }).result.epoch;

    const published = await pub.call({ type: 'publish', topic: 'news', data: 'hello' });
    expect(published).toMatchObject({ type: 'ack', result: { offset: 1 } });
    expect(await sub.next('message')).toEqual({
      type: 'message',
      topic: 'news',
      from: expect.any(String),
      offset: 1,
      epoch,
      data: 'hello',
    });
  });
});
