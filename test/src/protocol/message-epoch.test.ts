import { afterEach, describe, expect, it } from 'vitest';
import { toHubEvent, makeEnvelopeDecoder } from '../../../src/cluster/envelope.js';
import { noticeEvent } from '../../../src/history/hub-history.js';
import type { OutboundFrame } from '../../../src/protocol/schema.js';
import { connectJson } from '../../support/json-client.js';
import { startHub, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

type Message = Extract<OutboundFrame, { type: 'message' }>;

describe('message frames of a history topic carry the epoch beside the offset', () => {
  it('a subscriber that stays subscribed through an eviction sees the new epoch, so offset 1 is not a duplicate', async () => {
    // One stream at most: a publish to another topic evicts "a" (LRU), and its epoch dies with it.
    harness = await startHub({ protocol: 'json', history: { size: 10, ttlMs: 60_000, maxStreams: 1 } });
    const { client: sub } = await connectJson(harness.url);
    const { client: pub } = await connectJson(harness.url);
    const ack = await sub.call({ type: 'subscribe', topic: 'a' });
    const first = (ack as { result: { epoch: string } }).result.epoch;

    await pub.call({ type: 'publish', topic: 'a', data: 'before' });
    const before = await sub.next('message');
    expect(before).toEqual({
      type: 'message',
      topic: 'a',
      from: expect.any(String),
      offset: 1,
      epoch: first,
      data: 'before',
    });

    await pub.call({ type: 'publish', topic: 'b', data: 'evicts a' });
    await pub.call({ type: 'publish', topic: 'a', data: 'after' });
    const after: Message = await sub.next('message');
    // Same offset as before: only the epoch tells the client that continuity was lost.
    expect(after.offset).toBe(1);
    expect(after.epoch).toEqual(expect.any(String));
    expect(after.epoch).not.toBe(first);
  });

  it('replayed messages carry the epoch too; topics without history carry neither', async () => {
    harness = await startHub({ protocol: 'json', history: { size: 10, ttlMs: 60_000, topics: ['kept'] } });
    const { client: pub } = await connectJson(harness.url);
    const p = await pub.call({ type: 'publish', topic: 'kept', data: 1 });
    expect(p.type).toBe('ack');
    const { client: late } = await connectJson(harness.url);
    const ack = await late.call({ type: 'subscribe', topic: 'kept', since: { offset: 0, epoch: 'unknown' } });
    const epoch = (ack as { result: { epoch: string } }).result.epoch;
    // Another epoch: not recovered; ask again with the right one.
    const again = await late.call({ type: 'subscribe', topic: 'kept', since: { offset: 0, epoch } });
    expect(again).toMatchObject({ type: 'ack', result: { epoch, offset: 1, recovered: true } });
    expect(await late.next('message')).toMatchObject({ topic: 'kept', offset: 1, epoch, data: 1 });

    await late.call({ type: 'subscribe', topic: 'plain' });
    await pub.call({ type: 'publish', topic: 'plain', data: 2 });
    const plain = await late.next('message', (m) => m.topic === 'plain');
    expect(plain).toEqual({ type: 'message', topic: 'plain', from: expect.any(String), data: 2 });
  });
});

describe('in a cluster, the epoch travels from the store to the frame', () => {
  it('a store notification on the broker (Redis) becomes a hub event with its epoch', () => {
    const decode = makeEnvelopeDecoder();
    const decoded = decode('{"k":"p","n":"node-b","t":"news","o":7,"e":"ep-2","d":"x"}');
    if (!decoded.ok) throw new Error(decoded.why);
    expect(toHubEvent(decoded.envelope)).toMatchObject({ type: 'hub.remote.publish', offset: 7, epoch: 'ep-2' });
  });

  it('a stored notice (JetStream) becomes a hub event with its epoch', () => {
    const event = noticeEvent(
      { topic: 'news', epoch: 'ep-3', offset: 4, data: '"x"' },
      { maxBytes: 1024, maxTopicLength: 128 },
    );
    expect(event).toMatchObject({ type: 'hub.remote.publish', offset: 4, epoch: 'ep-3' });
  });
});
