import { describe, expect, it } from 'vitest';
import type { ClusterOut } from '../../machines/hub.types.js';
import { delivered, departuresTaken, fakeHub } from '../support/fake-clients.js';

function clusterHub() {
  const out: ClusterOut[] = [];
  const hub = fakeHub({ forward: (o) => void out.push(o) });
  return { ...hub, out };
}

describe('hub machine in a cluster', () => {
  it('forwards what started here: client up/down, joins and leaves, topic open/close, publishes, broadcasts', async () => {
    const { actor, register, writers, out } = clusterHub();
    register('a');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 't' });
    actor.send({ type: 'hub.publish', topic: 't', data: 'x', from: 'a', except: 'a' });
    actor.send({ type: 'hub.broadcast', data: 'y' });
    writers.back.get('a')!({ type: 'client.socketClosed', code: 1000, reason: '' });
    await departuresTaken();
    expect(out).toEqual([
      { kind: 'clientUp', id: 'a', meta: undefined },
      { kind: 'topicOpened', topic: 't' },
      { kind: 'joined', topic: 't', id: 'a', meta: undefined },
      { kind: 'publish', topic: 't', data: 'x', binary: undefined, except: 'a', from: 'a' },
      { kind: 'broadcast', data: 'y', binary: undefined, except: undefined },
      { kind: 'left', topic: 't', id: 'a' },
      { kind: 'topicClosed', topic: 't' },
      { kind: 'clientDown', id: 'a' },
    ]);
  });

  it('delivers remote publishes and broadcasts locally and never forwards them again', () => {
    const { actor, register, writers, out } = clusterHub();
    register('a');
    register('b');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 't' });
    out.length = 0;
    actor.send({ type: 'hub.remote.publish', topic: 't', data: 'p', from: 'z' });
    actor.send({ type: 'hub.remote.broadcast', data: 'all', except: 'b' });
    actor.send({ type: 'hub.remote.send', to: 'b', data: 'direct', from: 'z' });
    actor.send({ type: 'hub.remote.send', to: 'nobody', data: 'lost' });
    expect(out).toEqual([]);
    expect(delivered(writers.log.get('a'))).toEqual(['t<z>p', 'all']);
    expect(delivered(writers.log.get('b'))).toEqual(['<z>direct']);
  });

  it('routes a direct send to the node that owns the client, and answers unknown ids with an error', () => {
    const { actor, register, writers, out } = clusterHub();
    register('a');
    actor.send({ type: 'hub.remote.clientUp', node: 'n2', id: 'far', meta: { x: 1 } });
    out.length = 0;
    actor.send({ type: 'hub.send', to: 'far', data: 'hi', from: 'a', ref: 1 });
    actor.send({ type: 'hub.send', to: 'ghost', data: 'hi', from: 'a', ref: 2 });
    expect(out).toEqual([{ kind: 'send', node: 'n2', to: 'far', data: 'hi', binary: undefined, from: 'a' }]);
    expect(delivered(writers.log.get('a'))).toEqual(['ack:1:{"delivered":0,"forwarded":1}', 'error:2:unknown_client']);
  });

  it('keeps cluster-wide presence: remote joins and leaves, syncs and a dead node', () => {
    const { actor, register, writers } = clusterHub();
    register('a');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'room' });
    actor.send({ type: 'hub.remote.joined', node: 'n2', topic: 'room', id: 'r1', meta: { name: 'R' } });
    actor.send({ type: 'hub.remote.joined', node: 'n2', topic: 'room', id: 'r1', meta: { name: 'R' } }); // duplicate: no second joined
    actor.send({ type: 'hub.remote.sync', node: 'n3', clients: [['s1', undefined]], joins: [['room', 's1']] });
    actor.send({ type: 'hub.presence', id: 'a', topic: 'room', ref: 'p' });
    actor.send({ type: 'hub.remote.left', topic: 'room', id: 'r1' });
    actor.send({ type: 'hub.remote.nodeDown', node: 'n3' });
    expect(delivered(writers.log.get('a'))).toEqual([
      'joined:room:r1',
      'joined:room:s1',
      'ack:p:{"topic":"room","members":[{"id":"a"},{"id":"r1","meta":{"name":"R"}},{"id":"s1"}],"total":3}',
      'left:room:r1',
      'left:room:s1',
    ]);
    expect(actor.getSnapshot().context.remote.clientCount).toBe(1); // r1 is still connected on n2, in no topic
  });

  it('a sync replaces what was known of a node: vanished memberships leave, new ones join', () => {
    const { actor, register, writers } = clusterHub();
    register('a');
    actor.send({ type: 'hub.subscribe', id: 'a', topic: 'room' });
    actor.send({
      type: 'hub.remote.sync',
      node: 'n2',
      clients: [
        ['x', 1],
        ['y', 2],
      ],
      joins: [
        ['room', 'x'],
        ['room', 'y'],
      ],
    });
    actor.send({
      type: 'hub.remote.sync',
      node: 'n2',
      clients: [
        ['y', 2],
        ['z', 3],
      ],
      joins: [
        ['room', 'y'],
        ['room', 'z'],
      ],
    });
    expect(delivered(writers.log.get('a'))).toEqual(['joined:room:x', 'joined:room:y', 'left:room:x', 'joined:room:z']);
  });
});
