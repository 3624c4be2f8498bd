import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, type GapInfo, type Position } from '../../src/client/index.js';
import { clusterNode, spawnHub, type HubProcess, uniquePrefix } from '../support/hub-process.js';
import { deleteHistoryStream } from '../support/nats-history.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';
import { reach } from '../support/client-states.js';

/**
 * After a server restart the SDK's handler has every message once, in
 * order. Two hub processes share history in the broker; the subscriber's node is killed with
 * SIGKILL (a crash: no close frame, no goodbye to the cluster) and started again while a
 * publisher on the other node keeps publishing, awaiting each ack. The subscriber reaches its
 * node through a TCP proxy (its "load balancer"), re-pointed to the new process, so its URL
 * stays valid across the restart as a real deployment's would.
 */

beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

for (const [name, broker] of [
  ['Redis', ['--redis', REDIS_URL]],
  ['NATS', ['--nats', NATS_URL]],
] as const) {
  describe(`the SDK when its node crashes and restarts, over ${name} with shared history`, { timeout: 90_000 }, () => {
    it('a publisher on the other node keeps publishing; the handler has every acked message once, in order, no gap', async () => {
      const prefix = uniquePrefix('restart');
      if (name === 'NATS') cleanups.push(() => deleteHistoryStream(NATS_URL, prefix));
      const node = async (id: string): Promise<HubProcess> => {
        // A history of more than the test publishes: recovery can never fall out of the window.
        const p = await spawnHub([...clusterNode(broker, id, prefix), '--history-size', '100000']);
        cleanups.push(() => p.kill());
        return p;
      };
      const [a, b] = await Promise.all([node('a'), node('b')]);
      const lb = await tcpProxy('127.0.0.1', a.port);
      cleanups.push(() => lb.close());
      const options = { WebSocket, reconnect: { minDelayMs: 20, maxDelayMs: 300 } };
      const pub = createClient(b.url, options);
      const subClient = createClient(`ws://127.0.0.1:${lb.port}/ws`, options);
      cleanups.push(
        () => pub.close(),
        () => subClient.close(),
      );
      const topic = `feed-${Date.now().toString(36)}`;
      const got: number[] = [];
      const sub = subClient.subscribe<number>(topic, (n) => got.push(n), { recover: true });
      const gaps: GapInfo[] = [];
      sub.on('gap', (g) => gaps.push(g));
      const recoveries: Position[] = [];
      sub.on('recovered', ({ from }) => recoveries.push(from));
      await reach(pub, 'connected', 20_000);
      await expect.poll(() => sub.state, { timeout: 20_000 }).toBe('subscribed');

      // The publisher: one message at a time, each awaited; a refused publish ends the test.
      let acked = 0;
      let publishing = true;
      const loop = (async () => {
        while (publishing) {
          await pub.publish(topic, acked + 1);
          acked++;
        }
      })();
      loop.catch(() => (publishing = false));

      await expect.poll(() => got.length, { timeout: 20_000 }).toBeGreaterThan(20);
      const down = reach(subClient, 'reconnecting', 20_000);
      const resubscribed = new Promise<void>((resolve) => {
        let left = false; // subscribing on the drop, subscribed once the restarted node acks
        sub.on('state', (s) => (s === 'subscribing' ? (left = true) : s === 'subscribed' && left && resolve()));
      });
      await a.kill(); // SIGKILL
      await down;
      // Messages published while the subscriber's node is gone: a restart is not instantaneous.
      const ackedAtCrash = acked;
      await expect.poll(() => acked, { timeout: 20_000 }).toBeGreaterThan(ackedAtCrash + 20);
      const restarted = await node('a'); // the same node id, a new process
      lb.retarget(restarted.port);
      await resubscribed;
      expect(gaps).toEqual([]);
      expect(recoveries).toHaveLength(1);
      // And live again on the restarted node, while the publisher keeps going.
      const afterRecovery = acked;
      await expect.poll(() => got.length, { timeout: 20_000 }).toBeGreaterThan(afterRecovery + 20);
      publishing = false;
      await loop;

      await expect.poll(() => got.length, { timeout: 20_000 }).toBe(acked);
      expect(got).toEqual(Array.from({ length: acked }, (_, i) => i + 1));
      expect(gaps).toEqual([]);
      // It resumed from where it was at the crash: the messages published meanwhile came by recovery.
      expect(recoveries[0]!.offset).toBeLessThanOrEqual(ackedAtCrash + 1); // + 1: delivered before its ack reached the publisher
      const onRestarted = (await (await fetch(`${restarted.http}/stats`)).json()) as { clients: number };
      expect(onRestarted.clients).toBe(1);
    });
  });
}
