import { describe, expect, it } from 'vitest';
import type { HistoryReadResult, HubHistory } from '../../machines/hub.types.js';
import { delivered, fakeFrames, fakeHub, frame } from '../support/fake-clients.js';

const SIZE = 4;

/** A cluster's shared store as the machine sees it: reads answer when the test says so. */
function clusterHub() {
  const reads: ((result: HistoryReadResult) => void)[] = [];
  const history: HubHistory = {
    size: SIZE,
    synchronous: false,
    covers: () => true,
    appendAsync: () => undefined,
    readAsync: (_topic, _after, done) => void reads.push(done),
    append: () => {
      throw new Error('asynchronous store');
    },
    position: () => {
      throw new Error('asynchronous store');
    },
    read: () => {
      throw new Error('asynchronous store');
    },
  };
  const frames = {
    ...fakeFrames,
    // The label shows the offset and epoch: what a client holds its position by.
    message: (data: unknown, _binary: unknown, topic?: string, _from?: string, offset?: number, epoch?: string) =>
      frame(`${topic ?? ''}:${String(data)}@${epoch ?? '-'}/${offset ?? '-'}`),
  };
  const hub = fakeHub({ history, frames });
  /** Live messages as the store notifies them (Redis: the broker; JetStream: onStored). */
  const live = (from: number, to: number) => {
    for (let o = from; o <= to; o++)
      hub.actor.send({ type: 'hub.remote.publish', topic: 't', data: `m${o}`, offset: o, epoch: 'e' });
  };
  return { ...hub, reads, live };
}

describe('cluster history: live messages during a subscriber’s first read', () => {
  it('a fresh subscriber whose read is overtaken by more than `size` messages is acked where live continues', () => {
    const { actor, register, writers, reads, live } = clusterHub();
    register('a');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 't', ref: 1 });
    live(1, SIZE + 3); // 7 messages while the read is in flight: only the newest 4 can be held
    reads[0]!({ epoch: 'e', offset: 0, first: 1, messages: [] });
    live(SIZE + 4, SIZE + 4);
    expect(delivered(writers.log.get('a'))).toEqual([
      'ack:1:{"epoch":"e","offset":3}',
      't:m4@e/4',
      't:m5@e/5',
      't:m6@e/6',
      't:m7@e/7',
      't:m8@e/8',
    ]);
  });

  it('with `since`, the same overflow is recovered: false at the position live continues from', () => {
    const { actor, register, writers, reads, live } = clusterHub();
    register('a');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 't', ref: 1, since: { epoch: 'e', offset: 0 } });
    live(1, SIZE + 2);
    reads[0]!({ epoch: 'e', offset: 1, first: 1, messages: [{ offset: 1, data: 'm1' }] });
    expect(delivered(writers.log.get('a'))).toEqual([
      'ack:1:{"epoch":"e","offset":2,"recovered":false}',
      't:m3@e/3',
      't:m4@e/4',
      't:m5@e/5',
      't:m6@e/6',
    ]);
  });

  it('without overflow: the read’s top in the ack, the replay, then what was held after it, once each', () => {
    const { actor, register, writers, reads, live } = clusterHub();
    register('a');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 't', ref: 1, since: { epoch: 'e', offset: 0 } });
    live(1, 3);
    reads[0]!({
      epoch: 'e',
      offset: 2,
      first: 1,
      messages: [
        { offset: 1, data: 'm1' },
        { offset: 2, data: 'm2' },
      ],
    });
    expect(delivered(writers.log.get('a'))).toEqual([
      'ack:1:{"epoch":"e","offset":2,"recovered":true}',
      't:m1@e/1',
      't:m2@e/2',
      't:m3@e/3',
    ]);
  });
});
