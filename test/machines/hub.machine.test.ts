import { describe, expect, it, vi } from 'vitest';
import { toPromise } from 'xstate';
import { delivered, departuresTaken, fakeConnection, fakeFrames, fakeHub } from '../support/fake-clients.js';

describe('hub machine: running', () => {
  it('registers clients in its context, not in snapshot.children', () => {
    const { actor, register } = fakeHub();
    register('a');
    register('b');
    const snap = actor.getSnapshot();
    expect(snap.context.count).toBe(2);
    expect([...snap.context.clients.keys()]).toEqual(['a', 'b']);
    expect(Object.keys(snap.children).sort()).toEqual(['hub.departures', 'hub.heartbeat']);
    expect(snap.context.clients.get('a')?.writer).toBeDefined();
  });

  it('broadcasts to every client but the excepted one, in order', () => {
    const { actor, register, writers } = fakeHub();
    for (const id of ['a', 'b', 'c']) register(id);
    actor.send({ type: 'hub.broadcast', data: 'one', except: 'a' });
    actor.send({ type: 'hub.broadcast', data: 'two' });
    expect(delivered(writers.log.get('a'))).toEqual(['two']);
    expect(delivered(writers.log.get('b'))).toEqual(['one', 'two']);
    expect(delivered(writers.log.get('c'))).toEqual(['one', 'two']);
  });

  it('sends to one client; to an unknown id it does nothing', () => {
    const { actor, register, writers, errors } = fakeHub();
    register('a');
    register('b');
    actor.send({ type: 'hub.send', to: 'b', data: 'hi' });
    actor.send({ type: 'hub.send', to: 'nobody', data: 'lost' });
    expect(delivered(writers.log.get('a'))).toEqual([]);
    expect(delivered(writers.log.get('b'))).toEqual(['hi']);
    expect(errors).toEqual([]);
  });

  it('treats unregistering an unknown or already removed client as a no-op', () => {
    const { actor, register } = fakeHub();
    register('a');
    actor.send({ type: 'hub.unregister', id: 'ghost' });
    expect(actor.getSnapshot().context.count).toBe(1);
    actor.send({ type: 'hub.unregister', id: 'a' });
    actor.send({ type: 'hub.unregister', id: 'a' });
    expect(actor.getSnapshot().context.count).toBe(0);
    expect(actor.getSnapshot().value).toBe('running');
  });

  it('closes a live client that someone else unregisters, so its socket does not leak', () => {
    const { actor, register, writers } = fakeHub({}, { autoClose: false });
    register('a');
    actor.send({ type: 'hub.unregister', id: 'a' });
    expect(writers.log.get('a')).toContainEqual({ type: 'writer.close', code: 1000, reason: 'unregistered' });
  });

  it('removes and stops a client when its socket closes (the client reports its departure)', async () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    const ref = actor.getSnapshot().context.clients.get('a')!.ref;
    writers.back.get('a')!({ type: 'client.socketClosed', code: 1000, reason: 'bye' });
    expect(ref.getSnapshot().value).toBe('closed');
    await departuresTaken();
    expect(actor.getSnapshot().context.count).toBe(0);
    expect(ref.getSnapshot().status).toBe('stopped');
    expect(writers.log.get('a')).not.toContainEqual(expect.objectContaining({ type: 'writer.close' }));
  });

  it('takes in every departure of one event-loop turn in a single hub step', async () => {
    const { actor, register, writers } = fakeHub();
    for (const id of ['a', 'b', 'c', 'd']) register(id);
    const steps: string[] = [];
    actor.subscribe((snap) => steps.push(String(snap.context.count)));
    for (const id of ['a', 'b', 'c']) writers.back.get(id)!({ type: 'client.socketClosed', code: 1006, reason: '' });
    expect(actor.getSnapshot().context.count).toBe(4);
    await departuresTaken();
    expect(steps).toEqual(['1']);
    expect([...actor.getSnapshot().context.clients.keys()]).toEqual(['d']);
  });

  it('a late departure does not remove a namesake that registered since', async () => {
    const { actor, register, writers } = fakeHub({}, { autoClose: false });
    register('a');
    const first = actor.getSnapshot().context.clients.get('a')!.ref;
    const closeFirst = writers.back.get('a')!;
    actor.send({ type: 'hub.unregister', id: 'a' }); // removed now; its socket closes later
    register('a');
    closeFirst({ type: 'client.socketClosed', code: 1000, reason: '' });
    await departuresTaken();
    const entry = actor.getSnapshot().context.clients.get('a');
    expect(entry?.ref).toBeDefined();
    expect(entry?.ref).not.toBe(first);
    expect(actor.getSnapshot().context.count).toBe(1);
  });

  it('refuses a duplicate id with 4009 and keeps the first client', () => {
    const { actor, register } = fakeHub();
    register('a');
    const second = fakeConnection();
    register('a', second);
    expect(second.closes).toEqual([{ code: 4009, reason: 'duplicate client id' }]);
    expect(actor.getSnapshot().context.count).toBe(1);
  });

  it('refuses registrations beyond maxClients with 1013', () => {
    const { actor, register } = fakeHub({ maxClients: 2 });
    register('a');
    register('b');
    const third = fakeConnection();
    register('c', third);
    expect(third.closes).toEqual([{ code: 1013, reason: 'hub is full' }]);
    expect(actor.getSnapshot().context.count).toBe(2);
  });

  it('disconnects one client with the given code', async () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    register('b');
    actor.send({ type: 'hub.disconnect', id: 'a', code: 4000, reason: 'kicked' });
    actor.send({ type: 'hub.disconnect', id: 'ghost' });
    expect(writers.log.get('a')).toContainEqual({ type: 'writer.close', code: 4000, reason: 'kicked' });
    await departuresTaken();
    expect(actor.getSnapshot().context.count).toBe(1);
  });

  it('sends every writer the heartbeat on a sweep', () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    register('b');
    actor.send({ type: 'hub.sweep', now: 42 });
    expect(writers.log.get('a')).toContainEqual({ type: 'writer.heartbeat', now: 42 });
    expect(writers.log.get('b')).toContainEqual({ type: 'writer.heartbeat', now: 42 });
  });

  it('reports a message that cannot be encoded and keeps running', () => {
    const { actor, register, errors, writers } = fakeHub({
      frames: {
        ...fakeFrames,
        message: () => {
          throw new TypeError('circular');
        },
      },
    });
    register('a');
    actor.send({ type: 'hub.broadcast', data: {} });
    actor.send({ type: 'hub.send', to: 'a', data: {} });
    expect(errors.map((e) => e.during)).toEqual(['hub.broadcast', 'hub.send']);
    expect(delivered(writers.log.get('a'))).toEqual([]);
    expect(actor.getSnapshot().value).toBe('running');
  });

  it('survives a client actor that throws: reports it and forgets the client', () => {
    const { actor, register, writers, errors } = fakeHub(
      {},
      {},
      {
        handleMessage: () => {
          throw new Error('boom');
        },
      },
    );
    register('a');
    register('b');
    const disposed: string[] = [];
    const writerA = actor.getSnapshot().context.clients.get('a')!.writer;
    const dispose = writerA.dispose.bind(writerA);
    writerA.dispose = () => (disposed.push('a'), dispose());
    writers.back.get('a')!({ type: 'client.socketMessage', data: Buffer.from('x'), binary: false });
    expect(errors.map((e) => [e.during, (e.error as Error).message])).toEqual([['client a', 'boom']]);
    expect(actor.getSnapshot().context.count).toBe(1);
    expect(disposed).toEqual(['a']); // its socket must not outlive it
    actor.send({ type: 'hub.broadcast', data: 'still' });
    expect(delivered(writers.log.get('b'))).toEqual(['still']);
  });
});

describe('hub machine: draining and stopped', () => {
  it('on shutdown sends every client the close code, then stops once all are gone', async () => {
    const { actor, register, writers } = fakeHub();
    register('a');
    register('b');
    actor.send({ type: 'hub.shutdown', code: 1001, reason: 'bye' });
    expect(writers.log.get('a')).toContainEqual({ type: 'writer.close', code: 1001, reason: 'bye' });
    expect(writers.log.get('b')).toContainEqual({ type: 'writer.close', code: 1001, reason: 'bye' });
    await toPromise(actor);
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('on shutdown, the end of each socket goes to the hub: the client is stopped from where it was, without a step through closed', async () => {
    const { actor, register } = fakeHub();
    register('a');
    const ref = actor.getSnapshot().context.clients.get('a')!.ref;
    const seen: string[] = [];
    ref.subscribe((snap) => seen.push(`${String(snap.value)}/${snap.status}`));
    actor.send({ type: 'hub.shutdown' });
    await toPromise(actor);
    expect(seen).toEqual([]); // no step at all: not through closing, not through closed
    expect(ref.getSnapshot()).toMatchObject({ value: 'open', status: 'stopped' });
    expect(actor.getSnapshot().context.count).toBe(0);
  });

  it('watched (an inspector attached): each client takes the shutdown as steps of its own machine, with the code and reason', async () => {
    const { actor, register, writers } = fakeHub({ watched: true });
    register('a');
    const ref = actor.getSnapshot().context.clients.get('a')!.ref;
    const seen: string[] = [];
    ref.subscribe((snap) => seen.push(String(snap.value)));
    actor.send({ type: 'hub.shutdown', code: 1001, reason: 'bye' });
    await toPromise(actor);
    expect(seen).toEqual(['closing', 'closed']); // open → closing (client.shutdown) → closed (client.socketClosed)
    expect(writers.log.get('a')).toContainEqual({ type: 'writer.close', code: 1001, reason: 'bye' });
    expect(ref.getSnapshot().status).toBe('stopped');
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('waits in draining for clients that have not closed, and terminates them after the timeout', async () => {
    const { actor, register, writers } = fakeHub({}, { autoClose: false });
    register('a');
    actor.send({ type: 'hub.shutdown', timeoutMs: 20 });
    expect(actor.getSnapshot().value).toBe('draining');
    const terminated = new Promise<void>((resolve) => {
      writers.onEvent = (id, event) => id === 'a' && event.type === 'writer.terminate' && resolve();
    });
    await terminated;
    writers.back.get('a')!({ type: 'client.socketClosed', code: 1006, reason: '' });
    await toPromise(actor);
    expect(actor.getSnapshot().value).toBe('stopped');
  });

  it('stops at once when there is nobody to drain', () => {
    const { actor } = fakeHub();
    actor.send({ type: 'hub.shutdown' });
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('refuses clients that register while it drains, with the shutdown code', () => {
    const { actor, register } = fakeHub({}, { autoClose: false });
    register('a');
    actor.send({ type: 'hub.shutdown', code: 1001, reason: 'maintenance' });
    const late = fakeConnection();
    register('late', late);
    expect(late.closes).toEqual([{ code: 1001, reason: 'maintenance' }]);
    expect([...actor.getSnapshot().context.clients.keys()]).toEqual(['a']);
  });

  it('handles shutdown while registrations are still queued behind it', async () => {
    const { actor, writers } = fakeHub();
    const conns = [fakeConnection(), fakeConnection(), fakeConnection()];
    // Sent from inside a transition, these all queue in the mailbox behind the shutdown.
    actor.send({ type: 'hub.register', id: 'first', connection: conns[0]! });
    actor.send({ type: 'hub.shutdown' });
    actor.send({ type: 'hub.register', id: 'second', connection: conns[1]! });
    actor.send({ type: 'hub.register', id: 'third', connection: conns[2]! });
    await toPromise(actor);
    expect(writers.log.get('first')).toContainEqual({
      type: 'writer.close',
      code: 1001,
      reason: 'server shutting down',
    });
    // Once stopped, the actor takes no more events; the later registrations never became clients.
    expect(writers.log.has('second')).toBe(false);
    expect(writers.log.has('third')).toBe(false);
  });

  it('ignores broadcasts, sends, sweeps and a second shutdown while draining', () => {
    const { actor, register, writers } = fakeHub({}, { autoClose: false });
    register('a');
    actor.send({ type: 'hub.shutdown' });
    actor.send({ type: 'hub.broadcast', data: 'x' });
    actor.send({ type: 'hub.send', to: 'a', data: 'y' });
    actor.send({ type: 'hub.sweep', now: 1 });
    actor.send({ type: 'hub.disconnect', id: 'a' });
    actor.send({ type: 'hub.shutdown', code: 4000 });
    expect(writers.log.get('a')!.filter((e) => e.type !== 'writer.deliver')).toEqual([
      { type: 'writer.close', code: 1001, reason: 'server shutting down' },
    ]);
    expect(delivered(writers.log.get('a'))).toEqual([]);
    expect(actor.getSnapshot().value).toBe('draining');
  });

  it('takes no event once stopped (XState warns about each one, which is what we assert on)', () => {
    const { actor, register, writers } = fakeHub();
    actor.send({ type: 'hub.shutdown' });
    const conn = fakeConnection();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    try {
      register('late', conn);
      actor.send({ type: 'hub.broadcast', data: 'x' });
      expect(warn.mock.calls.map((c) => String(c[0]).split(' was sent')[0])).toEqual([
        'Event "hub.register"',
        'Event "hub.broadcast"',
      ]);
    } finally {
      warn.mockRestore();
    }
    expect(actor.getSnapshot().status).toBe('done');
    expect(writers.log.size).toBe(0);
  });
});
