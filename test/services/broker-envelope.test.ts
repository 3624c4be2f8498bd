import { readFile } from 'node:fs/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connectJson, type JsonClient } from '../support/json-client.js';
import { clusterNode, spawnHub, type HubProcess, uniquePrefix } from '../support/hub-process.js';
import { within } from '../support/eventually.js';
import { natsPublisher, redisCli, type RawPublisher } from '../support/broker-publish.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';

/**
 * docs/reliability.md item 10: one message on the broker must not crash, deafen or stop a node. Each payload is
 * published from outside (redis-cli / a plain NATS connection) on every channel a node listens
 * to, to two real hub processes; afterwards both must still be up, healthy, answering, and
 * exchanging messages across nodes, with every payload counted as malformed.
 */
beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

/**
 * The payloads by what they did on main before the envelope was decoded with a schema,
 * and neighbours of each. Each is a valid envelope but for the one field its class names (a
 * presence kind carries its incarnation `i` and version `v`), so it is refused for that, not for
 * a missing key; test/src/cluster/envelope.test.ts asserts the decoder's reason for each shape.
 * A sync with one bad entry is applied without it and counted as malformed (docs/scaling.md#the-envelope).
 */
const CLASSES: Record<string, string[]> = {
  // Buffer.from(123) threw inside the ioredis handler (every node exited) / ended the NATS subscription (deaf).
  'a type the handler trips on': [
    '{"k":"b","n":"evil","b64":123}',
    '{"k":"s","n":"evil","to":"x","b64":[1,2,3]}',
    '{"k":"c+","n":"evil","i":"b","v":1,"id":{"toString":1}}',
    '{"k":"j","n":"evil","i":"b","v":1,"t":{"a":1},"id":"x"}',
  ],
  // 60 bytes that made Buffer.from allocate 200 MB (1.9 GiB after a few).
  'a length that allocates': [
    '{"k":"b","n":"evil","b64":{"length":200000000}}',
    '{"k":"p","n":"evil","t":"room","b64":{"length":200000000}}',
  ],
  // A TypeError / RangeError inside a hub action stopped the hub actor: a zombie process.
  'a shape that breaks a hub action': [
    '{"k":"sync","n":"evil","i":"b","v":1,"c":[1],"j":[]}',
    '{"k":"sync","n":"evil","i":"b","v":1,"c":[],"j":[5]}',
    '{"k":"sync","n":"evil","i":"b","v":1,"c":{"length":5},"j":[]}',
    `{"k":"sync","n":"evil","i":"b","v":1,"c":[["deep",${deep(20_000)}]],"j":[["room","deep"]]}`,
    `{"k":"j","n":"evil","i":"b","v":1,"t":"room","id":"deep2","m":${deep(20_000)}}`,
    `{"k":"p","n":"evil","t":"room","d":${deep(20_000)}}`,
  ],
  'not an envelope': [
    '{"k":"b","n":"evil"}',
    '{"k":"hb","n":"../../etc","i":"b","v":1}',
    'null',
    '[]',
    '"a string"',
    '{"k":"b"',
  ],
};

/** Resident memory of a process, from /proc (Linux). */
const rssMiB = async (pid: number): Promise<number> => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
};

let procs: HubProcess[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  procs = [];
  await Promise.all(closers.splice(0).map((c) => c()));
});

type Stats = { cluster: { nodes: string[]; malformed: number }; hubErrors?: number };
const stats = async (p: HubProcess): Promise<Stats> => (await (await fetch(`${p.http}/stats`)).json()) as Stats;

async function untilNodesSeen(p: HubProcess): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await stats(p)).cluster.nodes.length >= 1) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`node on port ${p.port} never heard from the other`);
}

for (const [name, flag, url, publisher] of [
  ['Redis', '--redis', REDIS_URL, async () => redisCli(REDIS_URL)],
  ['NATS', '--nats', NATS_URL, () => natsPublisher(NATS_URL)],
] as const) {
  describe(`hostile broker messages over ${name}`, () => {
    it.each(Object.keys(CLASSES))(
      '%s: dropped and counted; both nodes stay up, healthy, answering and connected',
      async (cls) => {
        const hostile = CLASSES[cls]!;
        const prefix = uniquePrefix('env');
        procs = await Promise.all(['e0', 'e1'].map((id) => spawnHub(clusterNode([flag, url], id, prefix, 5_000))));
        await Promise.all(procs.map(untilNodesSeen));
        const [a, b] = await Promise.all(procs.map((p) => connectJson(p.url)));
        const [ca, cb] = [a!.client, b!.client] as [JsonClient, JsonClient];
        await ca.call({ type: 'subscribe', topic: 'room' });
        await cb.call({ type: 'subscribe', topic: 'room' });

        const rssBefore = await Promise.all(procs.map((p) => rssMiB(p.proc.pid!)));
        const raw: RawPublisher = await publisher();
        closers.push(() => raw.close());
        const channels = [
          `${prefix}:all`,
          `${prefix}:presence`,
          `${prefix}:node:e0`,
          `${prefix}:node:e1`,
          `${prefix}:topic:room`,
        ];
        let sent = 0;
        for (const payload of hostile) {
          for (const channel of channels) {
            // Redis payloads carry the sender's node id before a bar (src/cluster/broker/redis.ts).
            await raw.publish(channel, name === 'Redis' ? `evil|${payload}` : payload);
            sent++;
          }
        }

        // Both processes are alive and healthy, and answer a presence query (the hub actor runs).
        for (const [p, c] of [
          [procs[0]!, ca],
          [procs[1]!, cb],
        ] as const) {
          expect(p.proc.exitCode).toBeNull();
          const health = await fetch(`${p.http}/healthz`);
          expect(health.status).toBe(200);
          const presence = (await within(15_000, 'presence answer', c.call({ type: 'presence', topic: 'room' }))) as {
            result: { members: { id: string }[] };
          };
          expect(presence.result.members.map((m) => m.id).sort()).toEqual([a!.id, b!.id].sort());
          // A new client is still welcomed (the hub actor processes registrations).
          const fresh = await within(15_000, 'welcome of a new client', connectJson(p.url));
          fresh.client.raw.ws.close();
        }
        // Not deaf: a publish on node 0 still reaches node 1's member, and the other way.
        await ca.call({ type: 'publish', topic: 'room', data: 'after the storm' });
        expect(await within(15_000, 'cross-node publish e0 → e1', cb.next('message'))).toMatchObject({
          data: 'after the storm',
        });
        await cb.call({ type: 'publish', topic: 'room', data: 'and back' });
        expect(await within(15_000, 'cross-node publish e1 → e0', ca.next('message'))).toMatchObject({
          data: 'and back',
        });
        // Nothing was allocated for what was dropped (the bound is generous: GC timing varies).
        const rssAfter = await Promise.all(procs.map((p) => rssMiB(p.proc.pid!)));
        for (const [i, after] of rssAfter.entries()) expect(after - rssBefore[i]!).toBeLessThan(150);
        // Every hostile payload was counted where it arrived (the topic channel only on nodes with members).
        const counted = (await Promise.all(procs.map(stats))).map((s) => s.cluster.malformed);
        const perNode = hostile.length * (channels.length - 1); // each node hears its own node channel, not the other's
        expect(counted).toEqual([perNode, perNode]);
        expect(sent).toBe(hostile.length * channels.length);
      },
    );
  });
}
