import { afterEach, describe, expect, it } from 'vitest';
import type { HubOptions } from '../../../src/types.js';
import type { OutboundFrame } from '../../../src/protocol/schema.js';
import { memoryHistory } from '../../../src/history/memory.js';
import type { SyncHistoryStore } from '../../../src/history/store.js';
import { PublishError } from '../../../src/hub.js';
import { connectJson, type JsonClient } from '../../support/json-client.js';
import { startHub, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const HISTORY = { size: 1000, ttlMs: 60_000 };

async function hubWith(options: HubOptions = {}): Promise<Harness> {
  harness = await startHub({ protocol: 'json', history: HISTORY, ...options });
  return harness;
}

const client = async (): Promise<JsonClient> => (await connectJson(harness!.url)).client;

type Message = Extract<OutboundFrame, { type: 'message' }> & { offset?: number };
type Ack = { type: 'ack'; ref: string; result?: Record<string, unknown> };

/** Frames after the welcome, as parsed objects. */
const framesOf = (c: JsonClient): Record<string, unknown>[] =>
  c.frames.slice(1) as unknown as Record<string, unknown>[];

/** Resolves once the client holds a message with this offset on the topic (an event, not a sleep). */
async function untilOffset(c: JsonClient, topic: string, offset: number): Promise<void> {
  for (let n = c.raw.messages.length; ; n++) {
    if (c.frames.some((f) => f.type === 'message' && f.topic === topic && (f as Message).offset === offset)) return;
    await c.raw.received(n + 1);
  }
}

const offsetsOf = (c: JsonClient, topic: string): number[] =>
  c.frames.filter((f): f is Message => f.type === 'message' && f.topic === topic).map((f) => f.offset!);

describe('history and recovery on one node (real sockets)', () => {
  it('a subscribe to a topic with no stream yet answers an epoch and offset 0 that the first publish keeps', async () => {
    await hubWith();
    const [a, b] = [await client(), await client()];
    const ack = (await a.call({ type: 'subscribe', topic: 'fresh' })) as Ack;
    expect(ack.result).toEqual({ epoch: expect.any(String), offset: 0 });
    const epoch = ack.result!.epoch;
    const p = (await b.call({ type: 'publish', topic: 'fresh', data: 'first' })) as Ack;
    expect(p.result).toEqual({ delivered: 1, forwarded: 0, offset: 1 });
    expect(await a.next('message')).toEqual({
      type: 'message',
      topic: 'fresh',
      from: expect.any(String),
      offset: 1,
      epoch,
      data: 'first',
    });
    // A third client that only knew offset 0 of that epoch recovers the very first message.
    const c = await client();
    const r = (await c.call({ type: 'subscribe', topic: 'fresh', since: { epoch, offset: 0 } })) as Ack;
    expect(r.result).toEqual({ epoch, offset: 1, recovered: true });
    expect(await c.next('message')).toMatchObject({ offset: 1, data: 'first' });
  });

  it('offsets grow by exactly 1 per publish; publish acks carry the offset; pipelined publishes keep their order', async () => {
    await hubWith({ maxPendingCommands: 2 });
    const [sub, pub] = [await client(), await client()];
    await sub.call({ type: 'subscribe', topic: 't' });
    // 300 publishes sent without waiting for any ack: far more than maxPendingCommands.
    for (let i = 0; i < 300; i++) pub.send({ type: 'publish', topic: 't', data: i, ref: i });
    await untilOffset(sub, 't', 300);
    await pub.raw.received(1 + 300);
    const acks = framesOf(pub).filter((f) => f.type === 'ack') as unknown as Ack[];
    expect(acks.map((a) => a.ref)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(acks.map((a) => a.result!.offset)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    const got = sub.frames.filter((f): f is Message => f.type === 'message');
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(got.map((m) => m.data)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('a client cut while 300 messages are published recovers exactly those, in order, ack first, then live with no gap or duplicate while a publisher keeps going', async () => {
    await hubWith();
    const pub = await client();
    let a = await client();
    const first = (await a.call({ type: 'subscribe', topic: 'feed' })) as Ack;
    for (let i = 0; i < 5; i++) await pub.call({ type: 'publish', topic: 'feed', data: `before-${i}` });
    await untilOffset(a, 'feed', 5);
    const last = { epoch: first.result!.epoch as string, offset: 5 };
    a.raw.ws.terminate(); // a cut, no close handshake
    await a.raw.closed;
    for (let i = 0; i < 300; i++) pub.send({ type: 'publish', topic: 'feed', data: `missed-${i}` });
    // The publisher keeps publishing through the reconnect: nothing awaited between these.
    let publishing = true;
    let n = 0;
    const keepGoing = (async () => {
      while (publishing) {
        await pub.call({ type: 'publish', topic: 'feed', data: `live-${n++}` });
      }
    })();
    a = await client();
    const ack = (await a.call({ type: 'subscribe', topic: 'feed', since: last })) as Ack;
    expect(ack.result).toMatchObject({ epoch: last.epoch, recovered: true });
    const top = ack.result!.offset as number;
    expect(top).toBeGreaterThanOrEqual(305);
    await untilOffset(a, 'feed', top + 20);
    publishing = false;
    await keepGoing;
    const after = framesOf(a);
    // The ack comes first, then the replay, then live messages.
    expect(after[0]).toMatchObject({ type: 'ack' });
    const msgs = after.slice(1).filter((f) => f.type === 'message') as unknown as Message[];
    expect(after.slice(1).every((f) => f.type === 'message')).toBe(true);
    const offsets = msgs.map((m) => m.offset!);
    expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => 6 + i));
    expect(msgs.slice(0, 300).map((m) => m.data)).toEqual(Array.from({ length: 300 }, (_, i) => `missed-${i}`));
    expect(msgs[300]?.data).toMatch(/^live-/);
  });

  it('since at the top recovers with nothing to replay; above the top, of another epoch, or older than kept: recovered false and the current position', async () => {
    await hubWith({ history: { size: 10, ttlMs: 60_000 } });
    const [a, pub] = [await client(), await client()];
    const { result } = (await a.call({ type: 'subscribe', topic: 'x' })) as Ack;
    const epoch = result!.epoch as string;
    for (let i = 0; i < 25; i++) await pub.call({ type: 'publish', topic: 'x', data: i });
    const current = { epoch, offset: 25 };

    const c = await client();
    const atTop = (await c.call({ type: 'subscribe', topic: 'x', since: current })) as Ack;
    expect(atTop.result).toEqual({ ...current, recovered: true });
    const above = (await c.call({ type: 'subscribe', topic: 'x', since: { epoch, offset: 26 } })) as Ack;
    expect(above.result).toEqual({ ...current, recovered: false });
    const otherEpoch = (await c.call({ type: 'subscribe', topic: 'x', since: { epoch: 'nope', offset: 20 } })) as Ack;
    expect(otherEpoch.result).toEqual({ ...current, recovered: false });
    // Kept: offsets 16..25. Since 15 still recovers (16 is the next); since 14 missed 15, trimmed.
    const tooOld = (await c.call({ type: 'subscribe', topic: 'x', since: { epoch, offset: 14 } })) as Ack;
    expect(tooOld.result).toEqual({ ...current, recovered: false });
    await c.call({ type: 'ping' });
    expect(c.frames.some((f) => f.type === 'message')).toBe(false);
    const oldest = (await c.call({ type: 'subscribe', topic: 'x', since: { epoch, offset: 15 } })) as Ack;
    expect(oldest.result).toEqual({ ...current, recovered: true });
    await untilOffset(c, 'x', 25);
    expect(offsetsOf(c, 'x')).toEqual([16, 17, 18, 19, 20, 21, 22, 23, 24, 25]);
  });

  it('subscribes to made-up topics do not evict a stream being published to', async () => {
    await hubWith({ history: { size: 10, ttlMs: 60_000, maxStreams: 2 } });
    const [pub, attacker] = [await client(), await client()];
    const { result } = (await pub.call({ type: 'subscribe', topic: 'real' })) as Ack;
    const epoch = result!.epoch as string;
    const first = (await pub.call({ type: 'publish', topic: 'real', data: 1 })) as Ack;
    await pub.call({ type: 'publish', topic: 'real', data: 2 });
    // Each subscribe asks the store for a position, which used to create (and count) a stream.
    for (let i = 0; i < 20; i++)
      expect(await attacker.call({ type: 'subscribe', topic: `made-up-${i}` })).toMatchObject({ type: 'ack' });
    const c = await client();
    const r = (await c.call({ type: 'subscribe', topic: 'real', since: { epoch, offset: 0 } })) as Ack;
    expect(first.result).toMatchObject({ offset: 1 });
    expect(r.result).toEqual({ epoch, offset: 2, recovered: true });
    await untilOffset(c, 'real', 2);
    expect(offsetsOf(c, 'real')).toEqual([1, 2]);
  });

  it('a replay larger than the client’s outbound queue bytes is not attempted: recovered false', async () => {
    await hubWith({ outbound: { maxBytes: 4096 } });
    const [a, pub] = [await client(), await client()];
    const { result } = (await a.call({ type: 'subscribe', topic: 'big' })) as Ack;
    for (let i = 0; i < 20; i++) await pub.call({ type: 'publish', topic: 'big', data: 'x'.repeat(500) });
    const c = await client();
    const r = (await c.call({ type: 'subscribe', topic: 'big', since: { epoch: result!.epoch, offset: 0 } })) as Ack;
    expect(r.result).toEqual({ epoch: result!.epoch, offset: 20, recovered: false });
    const ok = (await c.call({ type: 'subscribe', topic: 'big', since: { epoch: result!.epoch, offset: 15 } })) as Ack;
    expect(ok.result).toMatchObject({ recovered: true });
    await untilOffset(c, 'big', 20);
    expect(offsetsOf(c, 'big')).toEqual([16, 17, 18, 19, 20]);
  });

  it('topics outside history.topics stay at-most-once: no offsets, no position, since answers recovered false', async () => {
    await hubWith({ history: { ...HISTORY, topics: ['chat:*', 'news'] } });
    const [a, pub] = [await client(), await client()];
    expect(((await a.call({ type: 'subscribe', topic: 'chat:1' })) as Ack).result).toMatchObject({ offset: 0 });
    expect(((await a.call({ type: 'subscribe', topic: 'news' })) as Ack).result).toMatchObject({ offset: 0 });
    expect(await a.call({ type: 'subscribe', topic: 'other' })).toEqual({ type: 'ack', ref: expect.any(String) });
    const since = (await a.call({ type: 'subscribe', topic: 'other', since: { epoch: 'e', offset: 3 } })) as Ack;
    expect(since.result).toEqual({ recovered: false });
    expect(await pub.call({ type: 'publish', topic: 'other', data: 1 })).toMatchObject({ result: { delivered: 1 } });
    expect(await a.next('message')).toEqual({ type: 'message', topic: 'other', from: expect.any(String), data: 1 });
    const h = await pub.call({ type: 'history', topic: 'other' });
    expect(h).toMatchObject({ type: 'error', code: 'no_history', message: 'topic "other" keeps no history' });
  });

  it('the history command: the newest `limit`, or a page forward from `since`; another epoch gives no messages; guarded by canSubscribe', async () => {
    await hubWith({ canSubscribe: (_c, topic) => topic !== 'secret' });
    const pub = await client();
    for (let i = 1; i <= 8; i++) await pub.call({ type: 'publish', topic: 'h', data: { n: i } });
    const newest = (await pub.call({ type: 'history', topic: 'h', limit: 3 })) as Ack;
    const epoch = newest.result!.epoch;
    expect(newest.result).toEqual({
      epoch,
      offset: 8,
      messages: [6, 7, 8].map((n) => ({ offset: n, from: expect.any(String), data: { n } })),
    });
    const page = (await pub.call({ type: 'history', topic: 'h', limit: 2, since: { epoch, offset: 2 } })) as Ack;
    expect((page.result!.messages as { offset: number }[]).map((m) => m.offset)).toEqual([3, 4]);
    const all = (await pub.call({ type: 'history', topic: 'h' })) as Ack;
    expect((all.result!.messages as unknown[]).length).toBe(8);
    const other = (await pub.call({ type: 'history', topic: 'h', since: { epoch: 'old', offset: 2 } })) as Ack;
    expect(other.result).toEqual({ epoch, offset: 8, messages: [] });
    expect(await pub.call({ type: 'history', topic: 'secret' })).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(await pub.call({ type: 'history', topic: 'h', limit: 0 })).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
    });
    expect(await pub.call({ type: 'subscribe', topic: 'h', since: { epoch, offset: -1 } })).toMatchObject({
      type: 'error',
      code: 'invalid_frame',
    });
  });

  it('a publish that cannot be stored is answered unavailable, never acked, never delivered; offsets stay right after', async () => {
    const inner = memoryHistory({ size: 100, ttlMs: 60_000, maxStreams: 100 });
    let down = false;
    const store: SyncHistoryStore = {
      ...inner,
      append: (topic, m) => {
        if (down) throw new Error('store is down');
        return inner.append(topic, m);
      },
    };
    await hubWith({ history: { ...HISTORY, store } });
    const [a, pub] = [await client(), await client()];
    await a.call({ type: 'subscribe', topic: 'u' });
    expect(await pub.call({ type: 'publish', topic: 'u', data: 1 })).toMatchObject({ result: { offset: 1 } });
    down = true;
    expect(await pub.call({ type: 'publish', topic: 'u', data: 2 })).toMatchObject({
      type: 'error',
      code: 'unavailable',
    });
    await expect(harness!.hub.publishConfirmed('u', 3)).rejects.toMatchObject({ code: 'unavailable' });
    await expect(harness!.hub.publishConfirmed('u', 3)).rejects.toBeInstanceOf(PublishError);
    down = false;
    expect(await pub.call({ type: 'publish', topic: 'u', data: 4 })).toMatchObject({ result: { offset: 2 } });
    await untilOffset(a, 'u', 2);
    expect(a.frames.filter((f) => f.type === 'message').map((f) => (f as Message).data)).toEqual([1, 4]);
  });

  it('hub.history() and hub.publishConfirmed() from code', async () => {
    const { hub } = await hubWith();
    const a = await client();
    await a.call({ type: 'subscribe', topic: 'code' });
    const confirmed = await hub.publishConfirmed('code', { hello: 1 });
    expect(confirmed).toEqual({
      delivered: 1,
      forwarded: 0,
      offset: 1,
      epoch: expect.any(String),
    });
    hub.publish('code', 'plain');
    await untilOffset(a, 'code', 2);
    expect(await a.next('message')).toEqual({
      type: 'message',
      topic: 'code',
      offset: 1,
      epoch: (confirmed as { epoch: string }).epoch,
      data: { hello: 1 },
    });
    const page = await hub.history('code', { limit: 10 });
    expect(page.messages).toEqual([
      { offset: 1, data: { hello: 1 } },
      { offset: 2, data: 'plain' },
    ]);
    await expect(hub.history('code', { limit: 1.5 })).rejects.toMatchObject({ code: 'invalid_frame' });
    expect(hub.keepsHistory('code')).toBe(true);
  });
});
