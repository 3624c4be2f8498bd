import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundFrame } from '../../src/protocol/schema.js';
import { connectJson, type JsonClient } from '../support/json-client.js';
import { spawnHub, type HubProcess, uniquePrefix } from '../support/hub-process.js';
import { deleteHistoryStream } from '../support/nats-history.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { NATS_URL, REDIS_URL, requireService } from './services.js';

beforeAll(() => Promise.all([requireService('Redis', REDIS_URL), requireService('NATS', NATS_URL)]));

type Message = Extract<OutboundFrame, { type: 'message' }> & { offset?: number };
type Ack = { type: 'ack'; ref: string; result?: Record<string, unknown> };

/** A server of this test's own on a free port, without persistence of its streams across start(): safe to stop and lose. */
interface PrivateServer {
  readonly url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** What the test needs from each broker: its flag, a cleanup of one cluster's history, a private server. */
interface BrokerCase {
  readonly name: string;
  readonly flag: string;
  readonly url: string;
  /** Only this cluster's own history on the shared server (its random prefix). */
  forget(url: string, prefix: string): Promise<void>;
  /** Loses this cluster's history on a live server, the way the engine can (a deleted stream). */
  lose(url: string, prefix: string): Promise<void>;
  server(): Promise<PrivateServer>;
}

/** Deletes one cluster's history keys: what a FLUSHALL or a restart without persistence does to them. */
const deleteKeys = async (url: string, prefix: string): Promise<void> => {
  const admin = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}:h:*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await admin.del(...keys);
    } while (cursor !== '0');
  } finally {
    admin.disconnect();
  }
};

const redisCase: BrokerCase = {
  name: 'Redis',
  flag: '--redis',
  url: REDIS_URL,
  forget: deleteKeys,
  lose: deleteKeys,
  server: privateRedis,
};

const natsCase: BrokerCase = {
  name: 'NATS',
  flag: '--nats',
  url: NATS_URL,
  forget: deleteHistoryStream,
  lose: deleteHistoryStream,
  server: privateNats,
};

let procs: HubProcess[] = [];
const clusters: { broker: BrokerCase; url: string; prefix: string }[] = [];
afterEach(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  procs = [];
});
afterAll(async () => {
  for (const { broker, url, prefix } of clusters) if (url === broker.url) await broker.forget(url, prefix);
});

/**
 * `n` CLI nodes of one new cluster. They log at `warn`, so that a test can await a node's
 * `cluster: broker connection up` line (brokerUp) instead of polling for the reconnect.
 */
async function nodes(
  broker: BrokerCase,
  url: string,
  n: number,
  { size = 400, extra = [] as string[] } = {},
): Promise<HubProcess[]> {
  const prefix = uniquePrefix('h');
  clusters.push({ broker, url, prefix });
  const started = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnHub([
        broker.flag,
        url,
        '--node-id',
        `n${i}`,
        '--cluster-prefix',
        prefix,
        '--history-size',
        String(size),
        '--log-level',
        'warn',
        ...extra,
      ]),
    ),
  );
  procs.push(...started);
  return started;
}

/** Resolves at the node's next `cluster: broker connection up` log line (its broker client is back and resubscribed). */
const brokerUp = (p: HubProcess): Promise<void> =>
  new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      if (!chunk.toString().includes('cluster: broker connection up')) return;
      p.proc.stdout!.off('data', onData);
      resolve();
    };
    p.proc.stdout!.on('data', onData);
  });

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

/** Resolves once the client holds a message with this data. */
async function untilData(c: JsonClient, topic: string, data: unknown): Promise<void> {
  for (let n = c.raw.messages.length; ; n++) {
    if (messages(c, topic).some((m) => m.data === data)) return;
    await c.raw.received(n + 1);
  }
}

/** A TCP reset, no close frame: what a phone in a tunnel looks like to the hub. */
function cut(c: JsonClient): Promise<void> {
  (c.raw.ws as unknown as { _socket: net.Socket })._socket.resetAndDestroy();
  return c.raw.closed.then(() => undefined);
}

/**
 * Publishes once `back` has happened (the nodes' broker connections reported up: an event), then
 * again at each refusal. The history store has a connection of its own, reconnecting on the same
 * backoff as the broker's, and nothing outside the process announces it: a refusal is the node's
 * answer, so the next attempt follows an answer, never a timer. Bounded in attempts.
 */
async function publishUntilAccepted(
  pub: JsonClient,
  topic: string,
  data: unknown,
  back: Promise<unknown> = Promise.resolve(),
): Promise<Ack | undefined> {
  await back;
  for (let attempt = 0; attempt < 5_000; attempt++) {
    const r = await pub.call({ type: 'publish', topic, data });
    if (r.type === 'ack') return r as Ack;
    expect(r).toMatchObject({ type: 'error', code: 'unavailable' });
  }
  return undefined;
}

describe.each([redisCase, natsCase])('history across three hub processes over $name', (broker) => {
  it('a client cut while 300 messages are published on another node recovers exactly those on a third node, then live, while a publisher keeps going', async () => {
    // History of 1,000: the 300 and what the other publisher sends meanwhile all stay recoverable.
    const [n1, n2, n3] = await nodes(broker, broker.url, 3, { size: 1_000 });
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

    // Another publisher keeps publishing through the whole reconnect: it starts before the cut.
    const other = await client(n2!);
    let publishing = true;
    let n = 0;
    const keepGoing = (async () => {
      while (publishing) await other.call({ type: 'publish', topic: 'feed', data: `live-${n++}` });
    })();
    await other.raw.received(3); // welcome + two answers: it is publishing

    // 300 publishes from another node; the client is cut after the 100th is acked, while the
    // rest are still to come (each publish waits for the previous one's ack).
    const missedAt: number[] = [];
    for (let i = 0; i < 300; i++) {
      const r = (await pub.call({ type: 'publish', topic: 'feed', data: `missed-${i}` })) as Ack;
      missedAt.push(r.result!.offset as number);
      if (i === 99) await cut(c);
    }
    const seen = messages(c, 'feed').map((m) => m.offset!);
    const last = seen.at(-1)!;
    expect(seen).toEqual(Array.from({ length: last }, (_, i) => i + 1)); // no gap up to the cut
    expect(last).toBeLessThan(missedAt[100]!); // the cut came before the 101st of the 300

    c = await client(n3!);
    const ack = (await c.call({ type: 'subscribe', topic: 'feed', since: { epoch, offset: last } })) as Ack;
    expect(ack.result).toMatchObject({ epoch, recovered: true });
    const top = ack.result!.offset as number;
    expect(top).toBeGreaterThanOrEqual(missedAt[299]!);
    await untilOffset(c, 'feed', top + 30);
    publishing = false;
    await keepGoing;
    const after = c.frames.slice(1);
    expect(after[0]).toMatchObject({ type: 'ack' });
    const got = messages(c, 'feed');
    expect(after.slice(1).every((f) => f.type === 'message')).toBe(true);
    const offsets = got.map((m) => m.offset!);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => last + 1 + i)); // no gap, no duplicate
    // Each of the 300 it had not seen, at the offset its publisher was acked with, in order.
    const missed = got.filter((m) => String(m.data).startsWith('missed-'));
    const expected = missedAt.flatMap((offset, i) => (offset > last ? [[offset, `missed-${i}`]] : []));
    expect(missed.map((m) => [m.offset, m.data])).toEqual(expected);
    const live = got.map((m) => String(m.data)).filter((d) => d.startsWith('live-'));
    expect(live.map((d) => Number(d.slice(5)))).toEqual(live.map((_, i) => Number(live[0]!.slice(5)) + i));

    // A position above the top, on yet another node: recovered false with the current position.
    const ahead = await client(n1!);
    const above = (await ahead.call({
      type: 'subscribe',
      topic: 'feed',
      since: { epoch, offset: offsets.at(-1)! + 1_000 },
    })) as Ack;
    expect(above.result).toMatchObject({ epoch, recovered: false });
    expect(above.result!.offset as number).toBeGreaterThanOrEqual(offsets.at(-1)!);

    // Too old (trimmed: history keeps 1,000) and another epoch: recovered false with the position.
    for (let i = 0; i < 1_000; i++) pub.send({ type: 'publish', topic: 'feed', data: i, ref: `x${i}` });
    for (let k = pub.raw.messages.length; !pub.frames.some((f) => f.type === 'ack' && f.ref === 'x999'); k++)
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

  it('a broker outage answers unavailable and gives no wrong offset after; a restart that lost the streams changes the epoch', async () => {
    const server = await broker.server();
    try {
      const [a, b] = await nodes(broker, server.url, 2);
      const sub = await client(a!);
      const pub = await client(b!);
      const first = (await sub.call({ type: 'subscribe', topic: 'o' })) as Ack;
      const epoch = first.result!.epoch as string;
      for (let i = 1; i <= 3; i++) await pub.call({ type: 'publish', topic: 'o', data: i });
      await untilOffset(sub, 'o', 3);

      await server.stop();
      const down = await pub.call({ type: 'publish', topic: 'o', data: 'during' });
      expect(down).toMatchObject({ type: 'error', code: 'unavailable' });

      const reconnected = Promise.all([brokerUp(a!), brokerUp(b!)]);
      await server.start(); // empty: no persistence, the streams are lost
      const accepted = await publishUntilAccepted(pub, 'o', 'after', reconnected);
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
      await server.stop();
    }
  });

  it('an outage that keeps the data: refused meanwhile, then offsets continue in the same epoch on both nodes', async () => {
    const target = new URL(broker.url);
    const proxy = await tcpProxy(target.hostname, Number(target.port));
    try {
      const scheme = broker.name === 'Redis' ? 'redis' : 'nats';
      // Every connection of both nodes (broker and history store) goes through the proxy.
      const [a, b] = await nodes(broker, `${scheme}://127.0.0.1:${proxy.port}`, 2);
      const sub = await client(a!);
      const pub = await client(b!);
      const epoch = ((await sub.call({ type: 'subscribe', topic: 'k' })) as Ack).result!.epoch as string;
      for (let i = 1; i <= 3; i++) await pub.call({ type: 'publish', topic: 'k', data: i });
      await untilOffset(sub, 'k', 3);

      // A network cut: the broker keeps every key and record; the nodes cannot reach it.
      const reconnected = Promise.all([brokerUp(a!), brokerUp(b!)]);
      await proxy.block();
      expect(await pub.call({ type: 'publish', topic: 'k', data: 'during' })).toMatchObject({
        type: 'error',
        code: 'unavailable',
      });
      proxy.unblock();

      const accepted = await publishUntilAccepted(pub, 'k', 'after-4', reconnected);
      expect(accepted?.result).toMatchObject({ offset: 4 }); // the same count, continued
      expect(await pub.call({ type: 'publish', topic: 'k', data: 'after-5' })).toMatchObject({ result: { offset: 5 } });
      // The other node's member receives the post-outage messages live, with their offsets.
      await untilOffset(sub, 'k', 5);
      expect(messages(sub, 'k').map((m) => [m.offset, m.data])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
        [4, 'after-4'],
        [5, 'after-5'],
      ]);
      // And a client of that node recovers across the outage: same epoch, exactly 4 and 5.
      const late = await client(a!);
      const r = (await late.call({ type: 'subscribe', topic: 'k', since: { epoch, offset: 3 } })) as Ack;
      expect(r.result).toEqual({ epoch, offset: 5, recovered: true });
      await untilOffset(late, 'k', 5);
      expect(messages(late, 'k').map((m) => m.offset)).toEqual([4, 5]);
    } finally {
      await proxy.close();
    }
  });

  it('a stream whose TTL passes gets a new epoch on every node; a member then gets offsets from 1', async () => {
    const TTL_MS = 1_000;
    const [a, b] = await nodes(broker, broker.url, 2, { extra: ['--history-ttl', String(TTL_MS)] });
    const sub = await client(a!);
    const pub = await client(b!);
    const epoch = ((await sub.call({ type: 'subscribe', topic: 'ttl' })) as Ack).result!.epoch as string;
    for (let i = 1; i <= 2; i++) await pub.call({ type: 'publish', topic: 'ttl', data: i });
    await untilOffset(sub, 'ttl', 2);

    // The expiry is a moment, not an event: wait past it once, then ask until the engine has
    // dropped the stream (Redis on access; JetStream's max_age on its own timer).
    await new Promise((resolve) => setTimeout(resolve, TTL_MS));
    let position: Record<string, unknown> | undefined;
    for (let attempt = 0; attempt < 100; attempt++) {
      position = ((await pub.call({ type: 'history', topic: 'ttl' })) as Ack).result;
      if (position!.epoch !== epoch) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(position!.epoch).not.toBe(epoch);
    expect(position).toMatchObject({ offset: 0, messages: [] });

    const first = (await pub.call({ type: 'publish', topic: 'ttl', data: 'fresh' })) as Ack;
    expect(first.result).toMatchObject({ offset: 1 });
    await untilData(sub, 'ttl', 'fresh');
    expect(messages(sub, 'ttl').at(-1)).toMatchObject({ offset: 1, data: 'fresh' });
    // The old position is of an epoch that ended, on the other node as well.
    const back = await client(a!);
    const r = (await back.call({ type: 'subscribe', topic: 'ttl', since: { epoch, offset: 2 } })) as Ack;
    expect(r.result).toMatchObject({ epoch: position!.epoch, recovered: false });
  });

  it('losing the streams on a live broker changes the epoch; members keep receiving, counted anew', async () => {
    const [a, b] = await nodes(broker, broker.url, 2);
    const sub = await client(a!);
    const pub = await client(b!);
    const epoch = ((await sub.call({ type: 'subscribe', topic: 'l' })) as Ack).result!.epoch as string;
    for (let i = 1; i <= 3; i++) await pub.call({ type: 'publish', topic: 'l', data: i });
    await untilOffset(sub, 'l', 3);
    await broker.lose(broker.url, clusters.at(-1)!.prefix);
    const accepted = await publishUntilAccepted(pub, 'l', 'anew');
    expect(accepted?.result).toMatchObject({ offset: 1 });
    const now = (await pub.call({ type: 'history', topic: 'l' })) as Ack;
    expect(now.result!.epoch).not.toBe(epoch);
    // The member on the other node gets it live, with its new offset.
    await untilData(sub, 'l', 'anew');
    expect(messages(sub, 'l').map((m) => [m.offset, m.data])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
      [1, 'anew'],
    ]);
    const back = await client(a!);
    const lost = (await back.call({ type: 'subscribe', topic: 'l', since: { epoch, offset: 3 } })) as Ack;
    expect(lost.result).toEqual({ epoch: now.result!.epoch, offset: 1, recovered: false });
  });
});

/** A redis-server of this test's own on a free port, without persistence: safe to stop and lose. */
async function privateRedis(): Promise<PrivateServer> {
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

/** A nats-server of this test's own with JetStream on a free port; each start() has an empty store (the streams are lost). */
async function privateNats(): Promise<PrivateServer> {
  const port = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  let proc: ChildProcess | undefined;
  let dir: string | undefined;
  const start = async (): Promise<void> => {
    dir = mkdtempSync(path.join(tmpdir(), 'actorhub-nats-'));
    proc = spawn('/usr/sbin/nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc!.stderr!.on('data', (d) => {
        out += d;
        if (out.includes('Server is ready')) resolve();
      });
      proc!.once('exit', (code) => reject(new Error(`nats-server exited with ${code}: ${out}`)));
    });
  };
  const stop = async (): Promise<void> => {
    const p = proc;
    proc = undefined;
    if (p && p.exitCode === null) {
      const gone = new Promise((r) => p.once('exit', r));
      p.kill('SIGKILL');
      await gone;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  };
  await start();
  return { url: `nats://127.0.0.1:${port}`, start, stop };
}
