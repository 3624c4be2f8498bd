import type { InspectionEvent } from 'xstate';
import { describe, expect, it } from 'vitest';
import { fakeHub } from '../support/fake-clients.js';

/**
 * Every close is a step of the client machine, but the per-message hot path must not
 * gain one. A publish, a broadcast or a send is one event of the hub; each recipient gets a
 * method call on its writer (`writer.deliver`), never an event of its client actor. Counted with
 * an inspection observer, as the viewer and the Stately inspector see the system.
 */
describe('the per-message hot path', () => {
  it('publish, broadcast and send are hub events only: no client machine takes a step per message', () => {
    const { actor, writers, register } = fakeHub({
      maxClients: 200,
      topicLimits: {
        maxTopicLength: 16,
        maxTopicsPerClient: 3,
        maxSubscriptions: 1_000_000,
        maxMembersPerTopic: 1_000,
        presencePageSize: 100,
      },
      presenceEvents: () => false,
      limits: { maxMessages: 1_000, maxBytes: 1024 * 1024, policy: 'close' },
    });
    const N = 50;
    for (let i = 0; i < N; i++) {
      register(`c${i}`);
      actor.send({ type: 'hub.subscribe', id: `c${i}`, topic: 'room' });
    }

    const steps: { actor: 'hub' | 'client'; type: string }[] = [];
    actor.system.inspect({
      next: (e: InspectionEvent) => {
        if (e.type === '@xstate.event')
          steps.push({ actor: e.actorRef === actor ? 'hub' : 'client', type: e.event.type });
      },
    });
    const deliveries = () =>
      [...writers.log.values()].reduce((n, log) => n + log.filter((w) => w.type === 'writer.deliver').length, 0);
    const before = deliveries();

    for (let m = 0; m < 10; m++) {
      actor.send({ type: 'hub.publish', topic: 'room', data: `p${m}`, from: 'c0' });
      actor.send({ type: 'hub.broadcast', data: `b${m}` });
      actor.send({ type: 'hub.send', to: 'c1', data: `s${m}`, from: 'c0' });
    }

    // Every message reached its recipients' writers…
    expect(deliveries() - before).toBe(10 * N + 10 * N + 10);
    // …and the system took exactly the 30 commands, all at the hub.
    expect(steps.filter((s) => s.actor === 'client')).toEqual([]);
    expect(steps.map((s) => s.type)).toEqual(
      Array.from({ length: 10 }, () => ['hub.publish', 'hub.broadcast', 'hub.send']).flat(),
    );

    // The observer does see client steps: a close is one (so the empty list above means something).
    actor.send({ type: 'hub.disconnect', id: 'c2', code: 4000, reason: 'bye' });
    expect(steps.filter((s) => s.actor === 'client').map((s) => s.type)).toContain('client.close');
  });
});
