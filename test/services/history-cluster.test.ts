import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundFrame } from '../../src/protocol/schema.js';
import { connectJson, type JsonClient } from '../support/json-client.js';
import { spawnHub, type HubProcess } from '../support/hub-process.js';
import { REDIS_URL, requireService } from './services.js';

beforeAll(() => requireService('Redis', REDIS_URL));

type Message = Extract<OutboundFrame, { type: 'message' }> & { offset?: number };
type Ack = { type: 'ack'; ref: string; result?: Record<string, unknown> };

let procs: HubProcess[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  procs = [];
});
afterAll(async () => {
  // Only this test's own keys on the shared Redis (its random cluster prefixes).
  const admin = new Redis(REDIS_URL);
  for (const prefix of prefixes) {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:h:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
  }
  admin.disconnect();
});

async function nodes(redisUrl: string, n: number, size = 400): Promise<HubProcess[]> {
  const prefix = `h${process.pid}x${Date.now().toString(36)}`;
  prefixes.push(prefix);
  const started = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnHub(['--redis', redisUrl, '--node-id', `n${i}`, '--cluster-prefix', prefix, '--history-size', String(size)]),
    ),
  );
  procs.push(...started);
  return started;
}

const client = async (p: HubProcess): Promise<JsonClient> => (await connectJson(p.url)).client;

const messages = (c: JsonClient, topic: string): Message[] =>
  c.frames.filter((f): f is Message => f.type === 'message' && f.topic === topic);

/** Resolves once the client holds a message with this offset (each arrival is an event). */
async function untilOffset(c: JsonClient, topic: string, offset: number): Promise<void> {
  for (let n = c.raw.messages.length; ; n++) {
    if (messages(c, topic).some((m) => m.offset === offset)) return;
    await c.raw.received(n + 1);
  }
}

/** A TCP reset, no close frame: what a phone in a tunnel looks like to the hub. */
function cut(c: JsonClient): Promise<void> {
  (c.raw.ws as unknown as { _socket: net.Socket })._socket.resetAndDestroy();
  return c.raw.closed.then(() => undefined);
}

describe('history across three hub processes over Redis', () => {
  it('a client cut while 300 messages are published on another node recovers exactly those on a third node, then live, while a publisher keeps going', async () => {
    const [n1, n2, n3] = await nodes(REDIS_URL, 3);
    let c = await client(n1!);
    const pub = await client(n2!);
    const sub = (await c.call({ type: 'subscribe', topic: 'feed' })) as Ack;
    expect(sub.result).toEqual({ epoch: expect.any(String), offset: 0 });
    const epoch = sub.result!.epoch as string;
    for (let i = 1; i <= 5; i++) {
      expect(await pub.call({ type: 'publish', topic: 'feed', data: `before-${i}` })).toMatchObject({
        result: { offset: i },
      });
    }
    await untilOffset(c, 'feed', 5);
    expect(messages(c, 'feed').map((m) => m.offset)).toEqual([1, 2, 3, 4, 5]);

    await cut(c);
    for (let i = 0; i < 300; i++) pub.send({ type: 'publish', topic: 'feed', data: `missed-${i}`, ref: `m${i}` });
    // Publishes keep their order, answers too: the last one's ack comes after all the others.
    for (let k = pub.raw.messages.length; !pub.frames.some((f) => f.type === 'ack' && f.ref === 'm299'); k++)
      await pub.raw.received(k + 1);
    const acks = pub.frames.filter((f): f is Ack => f.type === 'ack' && String(f.ref).startsWith('m'));
    expect(acks.map((a) => a.result!.offset)).toEqual(Array.from({ length: 300 }, (_, i) => 6 + i));

    // Another publisher keeps publishing through the whole reconnect.
    const other = await client(n2!);
    let publishing = true;
    let n = 0;
    const keepGoing = (async () => {
      while (publishing) await other.call({ type: 'publish', topic: 'feed', data: `live-${n++}` });
    })();
    await other.raw.received(3); // welcome + two answers: it is publishing

    c = await client(n3!);
    const ack = (await c.call({ type: 'subscribe', topic: 'feed', since: { epoch, offset: 5 } })) as Ack;
    expect(ack.result).toMatchObject({ epoch, recovered: true });
    const top = ack.result!.offset as number;
    expect(top).toBeGreaterThanOrEqual(305);
    await untilOffset(c, 'feed', top + 30);
    publishing = false;
    await keepGoing;
    const after = c.frames.slice(1);
    expect(after[0]).toMatchObject({ type: 'ack' });
    const got = messages(c, 'feed');
    expect(after.slice(1).every((f) => f.type === 'message')).toBe(true);
    const offsets = got.map((m) => m.offset!);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => 6 + i)); // no gap, no duplicate
    expect(got.slice(0, 300).map((m) => m.data)).toEqual(Array.from({ length: 300 }, (_, i) => `missed-${i}`));
    const live = got.slice(300).map((m) => m.data as string);
    expect(live.every((d) => d.startsWith('live-'))).toBe(true);
    expect(live.map((d) => Number(d.slice(5)))).toEqual(live.map((_, i) => Number(live[0]!.slice(5)) + i));

    // Too old (trimmed: history keeps 400) and another epoch: recovered false with the position.
    for (let i = 0; i < 100; i++) pub.send({ type: 'publish', topic: 'feed', data: i, ref: `x${i}` });
    for (let k = pub.raw.messages.length; !pub.frames.some((f) => f.type === 'ack' && f.ref === 'x99'); k++)
      await pub.raw.received(k + 1);
    const late = await client(n1!);
    const stale = (await late.call({ type: 'subscribe', topic: 'feed', since: { epoch, offset: 1 } })) as Ack;
    expect(stale.result).toMatchObject({ epoch, recovered: false });
    const wrong = (await late.call({
      type: 'subscribe',
      topic: 'feed',
      since: { epoch: 'other', offset: 300 },
    })) as Ack;
    expect(wrong.result).toMatchObject({ epoch, recovered: false });
    const history = (await late.call({ type: 'history', topic: 'feed', limit: 2 })) as Ack;
    expect((history.result!.messages as { offset: number }[]).map((m) => m.offset)).toEqual([
      (history.result!.offset as number) - 1,
      history.result!.offset as number,
    ]);
  });

  it('a Redis outage answers unavailable and gives no wrong offset after; a restart that lost the streams changes the epoch', async () => {
    const redis = await privateRedis();
    try {
      const [a, b] = await nodes(redis.url, 2);
      const sub = await client(a!);
      const pub = await client(b!);
      const first = (await sub.call({ type: 'subscribe', topic: 'o' })) as Ack;
      const epoch = first.result!.epoch as string;
      for (let i = 1; i <= 3; i++) await pub.call({ type: 'publish', topic: 'o', data: i });
      await untilOffset(sub, 'o', 3);

      await redis.stop();
      const down = await pub.call({ type: 'publish', topic: 'o', data: 'during' });
      expect(down).toMatchObject({ type: 'error', code: 'unavailable' });

      await redis.start(); // empty: no persistence, the streams are lost
      // Publish until the nodes are back on the new server (each refusal is an answer, not a hang).
      let accepted: Ack | undefined;
      const deadline = Date.now() + 30_000;
      while (!accepted && Date.now() < deadline) {
        const r = await pub.call({ type: 'publish', topic: 'o', data: 'after' });
        if (r.type === 'ack') accepted = r as Ack;
        else await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(accepted?.result).toMatchObject({ offset: 1 }); // counted anew, never continuing the old count
      for (let i = 2; i <= 3; i++) {
        expect(await pub.call({ type: 'publish', topic: 'o', data: `after-${i}` })).toMatchObject({
          result: { offset: i },
        });
      }
      const now = (await pub.call({ type: 'history', topic: 'o' })) as Ack;
      expect(now.result!.epoch).not.toBe(epoch);
      expect((now.result!.messages as { offset: number }[]).map((m) => m.offset)).toEqual([1, 2, 3]);
      const back = await client(b!);
      const lost = (await back.call({ type: 'subscribe', topic: 'o', since: { epoch, offset: 3 } })) as Ack;
      expect(lost.result).toEqual({ epoch: now.result!.epoch, offset: 3, recovered: false });
      // Nothing published during the outage was ever delivered.
      expect(messages(sub, 'o').some((m) => m.data === 'during')).toBe(false);
    } finally {
      await redis.stop();
    }
  });
});

/** A redis-server of this test's own on a free port, without persistence: safe to stop and lose. */
async function privateRedis(): Promise<{ url: string; start(): Promise<void>; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  let proc: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    proc = spawn(
      '/usr/bin/redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc!.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('Ready to accept connections')) resolve();
      });
      proc!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    });
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  };
  await start();
  return { url: `redis://127.0.0.1:${port}`, start, stop };
}
