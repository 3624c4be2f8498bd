import { describe, expect, it } from 'vitest';
import { toPromise } from 'xstate';
import { fakeFrames, fakeHub } from '../support/fake-clients.js';

const N = 50_000;

/** Counts every walk over the registry Map: a per-operation walk would make the hub O(n). */
function countWalks(clients: Map<string, unknown>) {
  const counter = { walks: 0 };
  for (const name of ['entries', 'values', 'keys', 'forEach', Symbol.iterator] as const) {
    const original = (Map.prototype as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[name]!;
    Object.defineProperty(clients, name, {
      value(this: Map<string, unknown>, ...args: unknown[]) {
        counter.walks++;
        return original.apply(this, args);
      },
    });
  }
  return counter;
}

describe(`hub machine with ${N} clients (operation counts, not time)`, () => {
  it('registers, unregisters, broadcasts and shuts down without touching unrelated clients', async () => {
    const { actor, register, writers } = fakeHub(
      { maxClients: N + 10, frames: { ...fakeFrames, welcome: () => undefined } },
      { record: false, autoClose: true },
    );
    const walks = countWalks(actor.getSnapshot().context.clients as Map<string, unknown>);
    for (let i = 0; i < N; i++) register(`c${i}`);
    const snap = actor.getSnapshot();
    expect(snap.context.count).toBe(N);
    // Clients live in the registry, not in snapshot.children (copied on every spawn/stop).
    expect(Object.keys(snap.children).sort()).toEqual(['hub.departures', 'hub.heartbeat']);
    expect(walks.walks).toBe(0);
    expect(writers.received).toBe(0);

    // One more register and unregister: no walk, no event to any other client.
    register('extra');
    actor.send({ type: 'hub.unregister', id: 'extra' });
    actor.send({ type: 'hub.unregister', id: 'never-registered' });
    expect(walks.walks).toBe(0);
    expect(writers.received).toBe(1); // only 'extra' is told to close (it was still connected)
    expect(actor.getSnapshot().context.count).toBe(N);

    // A broadcast: one walk, one delivery per recipient, the sender excepted.
    writers.received = 0;
    actor.send({ type: 'hub.broadcast', data: 'x', except: 'c0' });
    expect(walks.walks).toBe(1);
    expect(writers.received).toBe(N - 1);

    // A direct send: no walk, one delivery.
    writers.received = 0;
    actor.send({ type: 'hub.send', to: `c${N - 1}`, data: 'y' });
    expect(walks.walks).toBe(1);
    expect(writers.received).toBe(1);

    // Shutdown: one walk to send every client its close, one close each, then stopped.
    writers.received = 0;
    actor.send({ type: 'hub.shutdown' });
    await toPromise(actor);
    expect(walks.walks).toBe(2);
    expect(writers.received).toBe(N);
    expect(actor.getSnapshot().context.count).toBe(0);
    expect(actor.getSnapshot().value).toBe('stopped');
  }, 120_000);
});
