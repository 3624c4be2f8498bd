import { describe, expect, it } from 'vitest';
import { delivered, departuresTaken, fakeConnection as fakeConn, fakeHub } from '../support/fake-clients.js';

// fakeHub's limits: topics of at most 16 characters, 3 topics per client, 5 members per topic;
// presence events on. Frames are labels: "topic<from>data", "ack:ref:result", "error:ref:code".

describe('hub machine: topics', () => {
  it('subscribe acks, publish reaches members only, never the excepted sender', () => {
    const { actor, register, writers } = fakeHub({ presenceEvents: () => false });
    for (const id of ['a', 'b', 'c']) register(id);
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'news', ref: 1 });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 'news', ref: 2 });
    actor.send({ type: 'hub.publish', topic: 'news', data: 'hi', from: 'a', except: 'a', ref: 3 });
    expect(delivered(writers.log.get('a'))).toEqual(['ack:1:{}', 'ack:3:{"delivered":1,"forwarded":0}']);
    expect(delivered(writers.log.get('b'))).toEqual(['ack:2:{}', 'news<a>hi']);
    expect(delivered(writers.log.get('c'))).toEqual([]);
    expect(actor.getSnapshot().context.topicCount).toBe(1);
  });

  it('publish to a topic nobody joined delivers to no one and acks 0', () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    actor.send({ type: 'hub.publish', topic: 'empty', data: 'x', from: 'a', ref: 'r' });
    expect(delivered(writers.log.get('a'))).toEqual(['ack:r:{"delivered":0,"forwarded":0}']);
  });

  it('subscribing twice is idempotent; unsubscribing a topic you are not in is not an error', () => {
    const { actor, register, writers } = fakeHub({ presenceEvents: () => false });
    register('a');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 't', ref: 1 });
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 't', ref: 2 });
    actor.send({ type: 'hub.unsubscribe', id: 'a', topic: 'other', ref: 3 });
    expect(delivered(writers.log.get('a'))).toEqual(['ack:1:{}', 'ack:2:{}', 'ack:3:{}']);
    expect([...actor.getSnapshot().context.topics.members('t').keys()]).toEqual(['a']);
  });

  it('refuses invalid topic names, too many topics per client and full topics, each with its code', () => {
    const { actor, register, writers } = fakeHub({ presenceEvents: () => false });
    for (const id of ['a', 'b', 'c', 'd', 'e', 'f']) register(id);
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'x'.repeat(17), ref: 1 });
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'has space', ref: 2 });
    actor.send({ type: 'hub.subscribe', id: 'a', topic: '', ref: 3 });
    for (const t of ['t1', 't2', 't3', 't4']) actor.send({ type: 'hub.subscribe', id: 'a', topic: t, ref: t });
    for (const id of ['b', 'c', 'd', 'e', 'f']) actor.send({ type: 'hub.subscribe', id, topic: 't1', ref: id });
    expect(delivered(writers.log.get('a'))).toEqual([
      'error:1:invalid_topic',
      'error:2:invalid_topic',
      'error:3:invalid_topic',
      'ack:t1:{}',
      'ack:t2:{}',
      'ack:t3:{}',
      'error:t4:too_many_topics',
    ]);
    expect(delivered(writers.log.get('e'))).toEqual(['ack:e:{}']);
    expect(delivered(writers.log.get('f'))).toEqual(['error:f:topic_full']);
  });

  it("refuses a subscribe past maxSubscriptions, the whole hub's memberships; a departure frees its share", () => {
    const topicLimits = {
      maxTopicLength: 16,
      maxTopicsPerClient: 3,
      maxSubscriptions: 4,
      maxMembersPerTopic: 5,
      presencePageSize: 100,
    };
    const { actor, register, writers } = fakeHub({ presenceEvents: () => false, topicLimits });
    for (const id of ['a', 'b', 'c']) register(id);
    for (const t of ['t1', 't2', 't3']) actor.send({ type: 'hub.subscribe', id: 'a', topic: t, ref: t });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 't1', ref: 1 });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 't2', ref: 2 });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 't1', ref: 3 }); // already in: idempotent, not refused
    expect(delivered(writers.log.get('b'))).toEqual(['ack:1:{}', 'error:2:too_many_topics', 'ack:3:{}']);
    expect(actor.getSnapshot().context.topics.membershipCount).toBe(4);
    // An unsubscribe frees one: c gets in; then the hub is full again.
    actor.send({ type: 'hub.unsubscribe', id: 'b', topic: 't1', ref: 4 });
    actor.send({ type: 'hub.subscribe', id: 'c', topic: 't9', ref: 5 });
    actor.send({ type: 'hub.subscribe', id: 'c', topic: 't8', ref: 6 });
    // A departure frees all of its memberships at once.
    actor.send({ type: 'hub.unregister', id: 'a' });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 't2', ref: 7 });
    expect(delivered(writers.log.get('c'))).toEqual(['ack:5:{}', 'error:6:too_many_topics']);
    expect(delivered(writers.log.get('b')).slice(3)).toEqual(['ack:4:{}', 'ack:7:{}']);
    expect(actor.getSnapshot().context.topics.membershipCount).toBe(2);
  });

  it('a direct send between clients carries from and acks; to an unknown client it is an error', () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    register('b');
    actor.send({ type: 'hub.send', to: 'b', data: 'psst', from: 'a', ref: 1 });
    actor.send({ type: 'hub.send', to: 'ghost', data: 'psst', from: 'a', ref: 2 });
    expect(delivered(writers.log.get('b'))).toEqual(['<a>psst']);
    expect(delivered(writers.log.get('a'))).toEqual(['ack:1:{"delivered":1,"forwarded":0}', 'error:2:unknown_client']);
  });

  it('presence lists members with their metadata', () => {
    const { actor, writers } = fakeHub({ presenceEvents: () => false });
    actor.send({ type: 'hub.register', id: 'a', connection: fakeConn(), meta: { name: 'Ann' } });
    actor.send({ type: 'hub.register', id: 'b', connection: fakeConn(), meta: { name: 'Bob' } });
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'room' });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 'room' });
    actor.send({ type: 'hub.presence', id: 'b', topic: 'room', ref: 'p' });
    expect(delivered(writers.log.get('b'))).toEqual([
      'ack:p:{"topic":"room","members":[{"id":"a","meta":{"name":"Ann"}},{"id":"b","meta":{"name":"Bob"}}],"total":2}',
    ]);
  });

  it('joined/left go to the other members; a disconnect leaves every topic and leaves no ghost', async () => {
    const { actor, register, writers } = fakeHub();
    for (const id of ['a', 'b', 'c']) register(id);
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'room' });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 'room' });
    actor.send({ type: 'hub.subscribe', id: 'b', topic: 'lobby' });
    actor.send({ type: 'hub.subscribe', id: 'c', topic: 'lobby' });
    actor.send({ type: 'hub.unsubscribe', id: 'a', topic: 'room' });
    writers.back.get('b')!({ type: 'client.socketClosed', code: 1006, reason: '' });
    await departuresTaken();
    expect(delivered(writers.log.get('a'))).toEqual(['joined:room:b']);
    expect(delivered(writers.log.get('c'))).toEqual(['left:lobby:b']);
    expect(delivered(writers.log.get('b'))).toEqual(['joined:lobby:c', 'left:room:a']);
    const { topics } = actor.getSnapshot().context;
    expect([...topics.topics()]).toEqual([['lobby', 1]]);
    expect(topics.topicsOf('b').size).toBe(0);
    expect(actor.getSnapshot().context.topicCount).toBe(1);
  });

  it('commands from a client that already left are ignored', async () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    writers.back.get('a')!({ type: 'client.socketClosed', code: 1000, reason: '' });
    await departuresTaken();
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'room', ref: 1 });
    expect(actor.getSnapshot().context.topicCount).toBe(0);
  });

  it('sends the welcome frame first', () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    actor.send({ type: 'hub.send', to: 'a', data: 'x' });
    const first = writers.log.get('a')![0]!;
    expect(first.type === 'writer.deliver' && (first.frame as unknown as { label: string }).label).toBe('welcome:a');
  });
});
