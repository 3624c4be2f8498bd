import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectJson, type JsonClient } from '../support/json-client.js';
import { spawnHub, type HubProcess, uniquePrefix } from '../support/hub-process.js';
import { connect } from '../support/ws-client.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';

beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

const HEARTBEAT_MS = 200;
const NODE_TIMEOUT_MS = 1_000;

let procs: HubProcess[] = [];
afterEach(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  procs = [];
});

async function nodes(broker: string[], n: number, extra: string[] = []): Promise<HubProcess[]> {
  const prefix = uniquePrefix('t');
  const started = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnHub([
        ...broker,
        '--node-id',
        `n${i}`,
        '--cluster-prefix',
        prefix,
        '--heartbeat',
        String(HEARTBEAT_MS),
        '--node-timeout',
        String(NODE_TIMEOUT_MS),
        ...extra,
      ]),
    ),
  );
  procs.push(...started);
  return started;
}

/** Polls a node's /stats until it hears from `others` nodes (bounded; stats are the only window into a child process). */
async function untilNodesSeen(p: HubProcess, others: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const stats = (await (await fetch(`${p.http}/stats`)).json()) as { cluster: { nodes: string[] } };
    if (stats.cluster.nodes.length >= others) return;
    await new Promise((r) => setTimeout(r, HEARTBEAT_MS / 2));
  }
  throw new Error(`node on port ${p.port} never heard from ${others} other nodes`);
}

for (const [name, broker] of [
  ['Redis', ['--redis', REDIS_URL]],
  ['NATS', ['--nats', NATS_URL]],
] as const) {
  describe(`three hub processes over ${name}`, () => {
    it('relay: a message sent on one node reaches clients on every node, never the sender', async () => {
      const hubs = await nodes([...broker], 3, ['--protocol', 'relay']);
      await Promise.all(hubs.map((h) => untilNodesSeen(h, 2)));
      const [a, b, c] = await Promise.all(hubs.map((h) => connect(h.url)));
      a!.send('hello cluster');
      await Promise.all([b!.received(1), c!.received(1)]);
      expect([b!.texts, c!.texts]).toEqual([['hello cluster'], ['hello cluster']]);
      b!.send('reply');
      await a!.received(1);
      expect(a!.texts).toEqual(['reply']);
    });

    it('topics, direct sends and presence across nodes; a killed node leaves presence within the node timeout', async () => {
      const hubs = await nodes([...broker], 3, ['--presence-events', 'true']);
      await Promise.all(hubs.map((h) => untilNodesSeen(h, 2)));
      const joined: { client: JsonClient; id: string }[] = [];
      for (const h of hubs) joined.push(await connectJson(h.url));
      const [a, b, c] = joined.map((j) => j.client) as [JsonClient, JsonClient, JsonClient];
      const [ida, idb, idc] = joined.map((j) => j.id);

      for (const x of [a, b, c]) await x.call({ type: 'subscribe', topic: 'room' });
      // a sees b and c join (from other processes).
      const seen = new Set([(await a.next('joined')).client.id, (await a.next('joined')).client.id]);
      expect(seen).toEqual(new Set([idb, idc]));

      // Publish from a: b and c get it, a (the sender) does not.
      expect(await a.call({ type: 'publish', topic: 'room', data: { n: 1 } })).toMatchObject({
        type: 'ack',
        result: { delivered: 0, forwarded: 2 },
      });
      expect(await b.next('message')).toEqual({ type: 'message', topic: 'room', from: ida, data: { n: 1 } });
      expect(await c.next('message')).toEqual({ type: 'message', topic: 'room', from: ida, data: { n: 1 } });

      // Direct send from a (node 0) to c (node 2).
      expect(await a.call({ type: 'send', to: idc, data: 'psst' })).toMatchObject({
        type: 'ack',
        result: { delivered: 0, forwarded: 1 },
      });
      expect(await c.next('message')).toEqual({ type: 'message', from: ida, data: 'psst' });

      // Presence from any node lists all three.
      const presence = (await b.call({ type: 'presence', topic: 'room' })) as { result: { members: { id: string }[] } };
      expect(presence.result.members.map((m) => m.id).sort()).toEqual([ida, idb, idc].sort());
      // a received no message of its own: its next message is this marker from b.
      await b.call({ type: 'publish', topic: 'room', data: 'marker' });
      expect(await a.next('message')).toMatchObject({ from: idb, data: 'marker' });

      // Kill node 2 (SIGKILL: no goodbye). The others keep serving, and c leaves presence.
      const killedAt = Date.now();
      await hubs[2]!.kill();
      expect(await a.next('left')).toEqual({ type: 'left', topic: 'room', client: { id: idc } });
      const elapsed = Date.now() - killedAt;
      // Documented bound: node timeout + one heartbeat (generous slack for a loaded machine).
      expect(elapsed).toBeLessThan(NODE_TIMEOUT_MS + HEARTBEAT_MS + 2_000);
      const after = (await a.call({ type: 'presence', topic: 'room' })) as { result: { members: { id: string }[] } };
      expect(after.result.members.map((m) => m.id).sort()).toEqual([ida, idb].sort());
      expect(await a.call({ type: 'publish', topic: 'room', data: 'still here' })).toMatchObject({ type: 'ack' });
      expect(await b.next('message')).toMatchObject({ data: 'still here' });
    });
  });
}
