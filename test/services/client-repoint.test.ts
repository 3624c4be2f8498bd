import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { natsHistoryStream } from '../../src/history/nats.js';
import { WebSocket } from 'ws';
import { createClient } from '../../src/client/index.js';
import { spawnHub, type HubProcess, uniquePrefix } from '../support/hub-process.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';
import { reach } from '../support/client-states.js';

/**
 * The SDK re-pointed to another node of a cluster (a load balancer after a node is cut) while a
 * publisher on a third node keeps publishing. Without history (Redis, NATS): the client comes back
 * on the other node by itself, resubscribes there, and sees the messages in order with no
 * duplicate, resuming after the re-point (what was published meanwhile is lost: at-most-once).
 * With history shared in the broker (`--history-size` with `--redis`, or `--nats` on JetStream):
 * every message once, in order, recovered on the other node, no gap.
 */

beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

const prefixes: string[] = [];
afterAll(async () => {
  // The JetStream streams of this test's own clusters (history over NATS), never anything else.
  const nc = await connect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  for (const p of prefixes) await jsm.streams.delete(natsHistoryStream(p)).catch(() => undefined);
  await nc.close();
});

async function cluster(broker: readonly string[], n: number): Promise<HubProcess[]> {
  const prefix = uniquePrefix('repoint');
  prefixes.push(prefix);
  const hubs = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnHub([
        ...broker,
        '--node-id',
        `n${i}`,
        '--cluster-prefix',
        prefix,
        '--heartbeat',
        '200',
        '--node-timeout',
        '1000',
      ]),
    ),
  );
  for (const h of hubs) cleanups.push(() => h.kill());
  return hubs;
}

for (const [name, broker] of [
  ['Redis', ['--redis', REDIS_URL]],
  ['NATS', ['--nats', NATS_URL]],
] as const) {
  describe(`the SDK re-pointed to another node over ${name}`, { timeout: 60_000 }, () => {
    it('comes back on the other node, resubscribes, and receives in order with no duplicate while a publisher publishes', async () => {
      const [a, b, c] = await cluster(broker, 3);
      const lb = await tcpProxy('127.0.0.1', b!.port); // the subscriber's "load balancer", on node b
      cleanups.push(() => lb.close());
      const options = { WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 300 } };
      const pub = createClient(a!.url, options);
      const sub = createClient(`ws://127.0.0.1:${lb.port}/ws`, options);
      cleanups.push(
        () => pub.close(),
        () => sub.close(),
      );
      const got: number[] = [];
      const nodesSeen = new Set<string>();
      const subscription = sub.subscribe<number>('ticks', (n) => got.push(n));
      const states: string[] = [];
      subscription.on('state', (s) => states.push(s));
      await reach(pub, 'connected', 20_000);
      await expect.poll(() => subscription.state, { timeout: 20_000 }).toBe('subscribed');

      // The publisher publishes until the subscriber has had messages from both nodes.
      let n = 0;
      let publishing = true;
      const loop = (async () => {
        while (publishing) {
          await pub.publish('ticks', ++n);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      await expect.poll(() => got.length, { timeout: 20_000 }).toBeGreaterThan(20);
      nodesSeen.add(sub.id!);
      const before = got.length;
      states.length = 0;
      const back = new Promise<void>((resolve) => subscription.on('state', (s) => s === 'subscribed' && resolve()));
      lb.retarget(c!.port); // node b is "cut": the balancer now sends to node c
      lb.reset();
      await back;
      nodesSeen.add(sub.id!);
      await expect.poll(() => got.length, { timeout: 20_000 }).toBeGreaterThan(before + 20);
      publishing = false;
      await loop;

      expect(nodesSeen.size).toBe(2); // a new connection (a new id)…
      const onC = (await (await fetch(`${c!.http}/stats`)).json()) as { clients: number };
      expect(onC.clients).toBe(1); // …on node c
      expect(states).toEqual(['subscribing', 'subscribed']);
      // In order, no duplicate: strictly increasing; and the stream resumed after the re-point.
      for (let i = 1; i < got.length; i++) expect(got[i]!).toBeGreaterThan(got[i - 1]!);
      expect(got.at(-1)).toBeGreaterThan(got[before - 1]!);
    });
  });
}

for (const [name, broker] of [
  ['Redis', ['--redis', REDIS_URL]],
  ['NATS', ['--nats', NATS_URL]],
] as const) {
  describe(
    `the SDK re-pointed to another node over ${name} with history (shared in the broker)`,
    { timeout: 60_000 },
    () => {
      it('a publisher keeps publishing; after the re-point the handler has every message once, in order, and no gap', async () => {
        const [a, b, c] = await cluster([...broker, '--history-size', '1000'], 3);
        const lb = await tcpProxy('127.0.0.1', b!.port);
        cleanups.push(() => lb.close());
        const options = { WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 300 } };
        const pub = createClient(a!.url, options);
        const sub = createClient(`ws://127.0.0.1:${lb.port}/ws`, options);
        cleanups.push(
          () => pub.close(),
          () => sub.close(),
        );
        const topic = `ticks-${Date.now().toString(36)}`;
        const got: number[] = [];
        const subscription = sub.subscribe<number>(topic, (n) => got.push(n));
        const gaps: unknown[] = [];
        subscription.on('gap', (g) => gaps.push(g));
        await reach(pub, 'connected', 20_000);
        await expect.poll(() => subscription.state, { timeout: 20_000 }).toBe('subscribed');
        let n = 0;
        let publishing = true;
        const loop = (async () => {
          while (publishing) {
            await pub.publish(topic, ++n);
            await new Promise((r) => setTimeout(r, 2));
          }
        })();
        await expect.poll(() => got.length, { timeout: 20_000 }).toBeGreaterThan(20);
        const recovered = new Promise<void>((resolve) => subscription.on('recovered', () => resolve()));
        lb.retarget(c!.port);
        lb.reset();
        await recovered;
        const after = got.length;
        await expect.poll(() => got.length, { timeout: 20_000 }).toBeGreaterThan(after + 20);
        publishing = false;
        await loop;
        await expect.poll(() => got.length, { timeout: 20_000 }).toBe(n);
        expect(got).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(gaps).toEqual([]);
        const onC = (await (await fetch(`${c!.http}/stats`)).json()) as { clients: number };
        expect(onC.clients).toBe(1);
      });
    },
  );
}
