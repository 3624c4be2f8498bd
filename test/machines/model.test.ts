import { describe, expect, it, vi } from 'vitest';
import { createActor, type AnyEventObject, type AnyStateMachine, type AnyStateNode } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import { clientMachine } from '../../machines/client.machine.js';
import type { ClientEvent, Writer, WriterEvent } from '../../machines/client.types.js';
import { hubMachine } from '../../machines/hub.machine.js';
import type { ClusterOut, HubEvent, HubInput, PublishOutcome } from '../../machines/hub.types.js';
import { delivered, departuresTaken, fakeConnection, fakeHub, type FakeConnection } from '../support/fake-clients.js';

/**
 * Model-based tests of the hub and client machines. xstate/graph walks each machine's own
 * definition to find a shortest path to every state; each path is replayed against the real
 * machine (fake writers, a fake broker that records what the hub forwards), checking the state
 * after every step. Then, in every state, every event the machine knows is sent and its decided
 * outcome checked: there is no state × event pair without one. The last test of each machine
 * reads the definition again and fails when it holds a transition (state, event, guard) that no
 * case below covers: a new transition needs a new case.
 */

type Value = string;

/** Every transition of a machine's definition, as `state|event|guard` (`(machine)` for the root's). */
function transitionsOf(machine: AnyStateMachine): Set<string> {
  const keys = new Set<string>();
  const visit = (node: AnyStateNode): void => {
    const state = node.path.join('.') || '(machine)';
    const guardOf = (t: { guard?: unknown }): string =>
      t.guard === undefined ? '' : typeof t.guard === 'string' ? t.guard : String((t.guard as { type?: unknown }).type);
    for (const [event, transitions] of node.transitions) {
      // `after` transitions are raised as xstate.after.<delay>.<node id>: named by their delay.
      const name = event.startsWith('xstate.after.') ? `after ${event.split('.')[2]}` : event;
      for (const t of transitions) keys.add(`${state}|${name}|${guardOf(t)}`);
    }
    for (const t of node.always ?? []) keys.add(`${state}|always|${guardOf(t)}`);
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return keys;
}

/**
 * Paths from the initial state to every state, found by xstate/graph on the machine itself with
 * its effects switched off: every action a no-op, and each guard decided by the event (a path
 * only needs to know which branch it takes; the replay takes it for real).
 */
function pathsTo(
  machine: AnyStateMachine,
  events: AnyEventObject[],
  guards: Record<string, (event: AnyEventObject) => boolean>,
  input: unknown,
): Map<Value, AnyEventObject[]> {
  const actions = Object.fromEntries(
    Object.keys(machine.implementations.actions).map((name) => [name, () => undefined]),
  );
  const inert = machine.provide({
    actions,
    guards: Object.fromEntries(
      Object.entries(guards).map(([name, g]) => [name, ({ event }: { event: AnyEventObject }) => g(event)]),
    ),
  });
  const paths = getShortestPaths(inert, {
    events,
    input,
    serializeState: (snapshot: unknown) => JSON.stringify((snapshot as { value: unknown }).value),
  } as never);
  return new Map(
    paths.map((p) => [String((p.state as { value: unknown }).value), p.steps.slice(1).map((s) => s.event)]),
  );
}

// ---------------------------------------------------------------------------------------------
// Hub

const HUB_STATES = ['running', 'draining', 'stopped'] as const;
type HubState = (typeof HUB_STATES)[number];

/** A hub with clients a and b (a in topic t), a fake broker, and sockets that close only when told. */
async function hubFixture(options: Partial<HubInput> = {}) {
  const forwarded: ClusterOut[] = [];
  const fixture = fakeHub(
    {
      forward: (out) => void forwarded.push(out),
      maxClients: 3,
      shutdownTimeoutMs: 60_000,
      ...options,
    },
    { autoClose: false },
    {
      handleMessage: (_, params) => {
        if (params.data.toString() === 'boom') throw new Error('boom');
      },
    },
  );
  const connections = new Map<string, FakeConnection>();
  const register = (id: string): void => {
    const connection = fakeConnection();
    connections.set(id, connection);
    fixture.actor.send({ type: 'hub.register', id, connection });
  };
  register('a');
  register('b');
  fixture.actor.send({ type: 'hub.subscribe', id: 'a', topic: 't' });
  forwarded.length = 0;
  for (const log of fixture.writers.log.values()) log.length = 0;
  /** Every open socket reports its end (the fake peers answer the close frames now). */
  const closeSockets = async (): Promise<void> => {
    for (const [id, back] of fixture.writers.back) {
      if (fixture.actor.getSnapshot().context.clients.has(id))
        back({ type: 'client.socketClosed', code: 1001, reason: '' });
    }
    await departuresTaken();
  };
  return { ...fixture, forwarded, connections, register, closeSockets };
}
type HubFixture = Awaited<ReturnType<typeof hubFixture>>;

/** How an abstract step of a path is played on the real hub. */
async function playHub(f: HubFixture, event: AnyEventObject): Promise<void> {
  if (event.type === 'hub.departed') await f.closeSockets();
  else f.actor.send(event as HubEvent);
}

const HUB_GRAPH_EVENTS: AnyEventObject[] = [{ type: 'hub.shutdown' }, { type: 'hub.departed', departures: [] }];
const hubPaths = pathsTo(
  hubMachine,
  HUB_GRAPH_EVENTS,
  {
    isRegistered: () => false,
    isFull: () => false,
    isWatched: () => false,
    // The replay empties the hub with hub.departed: the path takes the isEmpty branch then.
    isEmpty: (event) => event.type === 'hub.departed',
  },
  {
    clientLogic: clientMachine,
    createWriter: () => ({}) as Writer,
    limits: { maxMessages: 1, maxBytes: 1, policy: 'close' },
    maxClients: 1,
    shutdownTimeoutMs: 1_000,
    pingIntervalMs: 1_000,
  },
);

async function hubIn(state: HubState, options?: Partial<HubInput>): Promise<HubFixture> {
  const f = await hubFixture(options);
  const path = hubPaths.get(state);
  if (!path) throw new Error(`xstate/graph found no path to ${state}`);
  for (const event of path) await playHub(f, event);
  expect(f.actor.getSnapshot().value).toBe(state);
  return f;
}

const labels = (f: HubFixture, id: string): string[] => delivered(f.writers.log.get(id));
const writerTypes = (f: HubFixture, id: string): string[] => (f.writers.log.get(id) ?? []).map((e) => e.type);
const allWriterEvents = (f: HubFixture): WriterEvent[] => [...f.writers.log.values()].flat();

interface HubCase {
  readonly name: string;
  /** The hub's input for this case, when it differs from the fixture's. */
  readonly options?: Partial<HubInput>;
  /** The transitions of the definition this case exercises, as `state|event|guard`. */
  readonly covers: readonly string[];
  readonly play: (f: HubFixture) => Promise<void> | void;
  readonly expect: Record<HubState, (f: HubFixture, before: HubState) => void>;
}

/** In a final state the hub takes nothing: no writer hears anything, nothing is forwarded. */
const inert = (f: HubFixture): void => {
  expect(f.actor.getSnapshot().status).toBe('done');
  expect(allWriterEvents(f)).toEqual([]);
  expect(f.forwarded).toEqual([]);
};
/** In draining, an event with no answer to give is dropped, by decision: nothing is delivered. */
const dropped = (f: HubFixture): void => {
  expect(f.actor.getSnapshot().value).toBe('draining');
  expect(allWriterEvents(f)).toEqual([]);
  expect(f.forwarded).toEqual([]);
};
/** What publishers from code (the reply callback of hub.publish / hub.history.appended) were told. */
const replies: PublishOutcome[] = [];
const refusedShuttingDown = (id: string) => (f: HubFixture) => {
  expect(f.actor.getSnapshot().value).toBe('draining');
  expect(labels(f, id)).toEqual(['error:7:shutting_down']);
  expect(f.forwarded).toEqual([]);
};

const HUB_CASES: HubCase[] = [
  {
    name: 'hub.register of a new id',
    covers: ['running|hub.register|'],
    play: (f) => f.register('c'),
    expect: {
      running: (f) => {
        expect(f.actor.getSnapshot().context.count).toBe(3);
        expect(f.writers.log.get('c')?.[0]).toMatchObject({ type: 'writer.deliver' });
        expect(f.forwarded).toEqual([{ kind: 'clientUp', id: 'c', meta: undefined }]);
      },
      draining: (f) => {
        expect(f.connections.get('c')!.closes).toEqual([{ code: 1001, reason: 'server shutting down' }]);
        expect(f.actor.getSnapshot().context.clients.has('c')).toBe(false);
      },
      stopped: (f) => {
        inert(f);
        expect(f.connections.get('c')!.closes).toEqual([]);
      },
    },
  },
  {
    name: 'hub.register of a connected id',
    covers: ['running|hub.register|isRegistered', 'draining|hub.register|'],
    play: (f) => f.register('a'),
    expect: {
      running: (f) => {
        expect(f.connections.get('a')!.closes).toEqual([{ code: 4009, reason: 'duplicate client id' }]);
        expect(f.actor.getSnapshot().context.count).toBe(2);
      },
      draining: (f) => expect(f.connections.get('a')!.closes).toEqual([{ code: 1001, reason: 'server shutting down' }]),
      stopped: inert,
    },
  },
  {
    name: 'hub.register past maxClients',
    covers: ['running|hub.register|isFull'],
    play: (f) => {
      f.register('c');
      f.register('d');
    },
    expect: {
      running: (f) => {
        expect(f.connections.get('d')!.closes).toEqual([{ code: 1013, reason: 'hub is full' }]);
        expect(f.actor.getSnapshot().context.count).toBe(3);
      },
      draining: (f) => expect(f.connections.get('d')!.closes).toEqual([{ code: 1001, reason: 'server shutting down' }]),
      stopped: inert,
    },
  },
  {
    name: 'hub.unregister',
    covers: ['(machine)|hub.unregister|'],
    play: (f) => f.actor.send({ type: 'hub.unregister', id: 'a' }),
    expect: {
      running: (f) => {
        expect(f.actor.getSnapshot().context.clients.has('a')).toBe(false);
        expect(f.writers.log.get('a')).toContainEqual({ type: 'writer.close', code: 1000, reason: 'unregistered' });
        expect(f.forwarded).toContainEqual({ kind: 'clientDown', id: 'a' });
      },
      // Already closed by the shutdown: removed at once, nothing more on its socket.
      draining: (f) => {
        expect(f.actor.getSnapshot().context.clients.has('a')).toBe(false);
        expect(f.forwarded).toContainEqual({ kind: 'clientDown', id: 'a' });
      },
      stopped: inert,
    },
  },
  {
    name: 'hub.broadcast',
    covers: ['running|hub.broadcast|'],
    play: (f) => f.actor.send({ type: 'hub.broadcast', data: 'hi', except: 'b' }),
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['hi']);
        expect(labels(f, 'b')).toEqual([]);
        expect(f.forwarded).toEqual([{ kind: 'broadcast', data: 'hi', binary: undefined, except: 'b' }]);
      },
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'hub.send with a ref',
    covers: ['running|hub.send|', 'draining|hub.send|'],
    play: (f) => f.actor.send({ type: 'hub.send', to: 'b', data: 'psst', from: 'a', ref: 7 }),
    expect: {
      running: (f) => {
        expect(labels(f, 'b')).toEqual(['<a>psst']);
        expect(labels(f, 'a')).toEqual(['ack:7:{"delivered":1,"forwarded":0}']);
      },
      draining: refusedShuttingDown('a'),
      stopped: inert,
    },
  },
  {
    name: 'hub.subscribe with a ref',
    covers: ['running|hub.subscribe|', 'draining|hub.subscribe|'],
    play: (f) => f.actor.send({ type: 'hub.subscribe', id: 'a', topic: 'u', ref: 7 }),
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['ack:7:{}']);
        expect(f.forwarded).toEqual([
          { kind: 'topicOpened', topic: 'u' },
          { kind: 'joined', topic: 'u', id: 'a', meta: undefined },
        ]);
      },
      draining: refusedShuttingDown('a'),
      stopped: inert,
    },
  },
  {
    name: 'hub.unsubscribe with a ref',
    covers: ['running|hub.unsubscribe|', 'draining|hub.unsubscribe|'],
    play: (f) => f.actor.send({ type: 'hub.unsubscribe', id: 'a', topic: 't', ref: 7 }),
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['ack:7:{}']);
        expect(f.forwarded).toEqual([
          { kind: 'left', topic: 't', id: 'a' },
          { kind: 'topicClosed', topic: 't' },
        ]);
      },
      draining: refusedShuttingDown('a'),
      stopped: inert,
    },
  },
  {
    name: 'hub.publish with a ref',
    covers: ['running|hub.publish|', 'draining|hub.publish|'],
    play: (f) => f.actor.send({ type: 'hub.publish', topic: 't', data: 'news', from: 'b', ref: 7 }),
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['t<b>news']);
        expect(labels(f, 'b')).toEqual(['ack:7:{"delivered":1,"forwarded":0}']);
        expect(f.forwarded).toHaveLength(1);
      },
      draining: refusedShuttingDown('b'),
      stopped: inert,
    },
  },
  {
    name: 'hub.publish from code, waiting for its outcome (publishConfirmed)',
    covers: [],
    play: (f) => {
      const outcomes: unknown[] = [];
      f.actor.send({ type: 'hub.publish', topic: 't', data: 'news', reply: (o) => void outcomes.push(o) });
      (f as HubFixture & { outcomes?: unknown[] }).outcomes = outcomes;
    },
    expect: {
      running: (f) =>
        expect((f as HubFixture & { outcomes: unknown[] }).outcomes).toEqual([{ delivered: 1, forwarded: 0 }]),
      draining: (f) =>
        expect((f as HubFixture & { outcomes: unknown[] }).outcomes).toEqual([
          { error: 'shutting_down', message: 'the hub is shutting down' },
        ]),
      stopped: inert,
    },
  },
  {
    name: 'hub.presence with a ref',
    covers: ['running|hub.presence|', 'draining|hub.presence|'],
    play: (f) => f.actor.send({ type: 'hub.presence', id: 'a', topic: 't', ref: 7 }),
    expect: {
      running: (f) => {
        const [answer, ...more] = labels(f, 'a');
        expect(more).toEqual([]);
        expect(JSON.parse(answer!.replace(/^ack:7:/, ''))).toMatchObject({ topic: 't', members: [{ id: 'a' }] });
      },
      draining: refusedShuttingDown('a'),
      stopped: inert,
    },
  },
  {
    name: 'hub.history.appended (cluster): a store failure answers the publisher unavailable',
    covers: ['running|hub.history.appended|', 'draining|hub.history.appended|'],
    play: (f) =>
      f.actor.send({
        type: 'hub.history.appended',
        topic: 't',
        from: 'a',
        ref: 7,
        reply: (outcome) => replies.push(outcome),
        result: { error: 'unavailable', message: 'store down' },
      }),
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['error:7:unavailable']);
        expect(replies.splice(0)).toEqual([{ error: 'unavailable', message: 'store down' }]);
        expect(f.forwarded).toEqual([]);
      },
      // The publisher's reply settles and its ref is answered, even while draining.
      draining: (f) => {
        expect(labels(f, 'a')).toEqual(['error:7:unavailable']);
        expect(replies.splice(0)).toEqual([{ error: 'unavailable', message: 'store down' }]);
        expect(f.forwarded).toEqual([]);
      },
      stopped: (f) => {
        inert(f);
        expect(replies.splice(0)).toEqual([]);
      },
    },
  },
  {
    name: 'hub.history.appended (cluster): a stored message is answered with its offset',
    covers: [],
    play: (f) =>
      f.actor.send({
        type: 'hub.history.appended',
        topic: 't',
        from: 'b',
        ref: 7,
        reply: (outcome) => replies.push(outcome),
        result: { epoch: 'e', offset: 3 },
      }),
    expect: {
      running: (f) => {
        expect(labels(f, 'b')).toEqual(['ack:7:{"delivered":1,"forwarded":0,"offset":3}']);
        expect(replies.splice(0)).toEqual([{ delivered: 1, forwarded: 0, offset: 3, epoch: 'e' }]);
      },
      // Stored before the shutdown: its offset, not shutting_down (a retry would store it twice);
      // the notification finds no local member, as the hub drops it while draining.
      draining: (f) => {
        expect(labels(f, 'b')).toEqual(['ack:7:{"delivered":0,"forwarded":0,"offset":3}']);
        expect(replies.splice(0)).toEqual([{ delivered: 0, forwarded: 0, offset: 3, epoch: 'e' }]);
      },
      stopped: (f) => {
        inert(f);
        expect(replies.splice(0)).toEqual([]);
      },
    },
  },
  {
    name: 'hub.history.read (cluster): the subscriber gets its ack with the stream position',
    covers: ['running|hub.history.read|', 'draining|hub.history.read|'],
    play: (f) => {
      // The subscriber waits for its read, as startRecovery leaves it (the fixture has no shared store).
      f.actor.getSnapshot().context.recovering.set('t', new Map([['a', { messages: [], dropped: 0 }]]));
      f.actor.send({
        type: 'hub.history.read',
        id: 'a',
        topic: 't',
        ref: 7,
        result: { epoch: 'e', offset: 3, first: 1, messages: [] },
      });
    },
    expect: {
      running: (f) => {
        expect(f.actor.getSnapshot().context.recovering.size).toBe(0);
        const [answer, ...more] = labels(f, 'a');
        expect(more).toEqual([]);
        expect(JSON.parse(answer!.replace(/^ack:7:/, ''))).toEqual({ epoch: 'e', offset: 3 });
      },
      draining: (f) => {
        refusedShuttingDown('a')(f);
        expect(f.actor.getSnapshot().context.recovering.size).toBe(0);
      },
      stopped: inert,
    },
  },
  {
    name: 'hub.send without a ref in draining: nothing to answer',
    covers: [],
    play: (f) => f.actor.send({ type: 'hub.send', to: 'b', data: 'psst', from: 'a' }),
    expect: {
      running: (f) => expect(labels(f, 'a')).toEqual([]),
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'hub.remote.broadcast',
    covers: ['running|hub.remote.broadcast|'],
    play: (f) => f.actor.send({ type: 'hub.remote.broadcast', data: 'far' }),
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['far']);
        expect(labels(f, 'b')).toEqual(['far']);
        expect(f.forwarded).toEqual([]); // never forwarded back
      },
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'hub.remote.publish',
    covers: ['running|hub.remote.publish|'],
    play: (f) => f.actor.send({ type: 'hub.remote.publish', topic: 't', data: 'far', from: 'r1' }),
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['t<r1>far']);
        expect(f.forwarded).toEqual([]);
      },
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'hub.remote.send',
    covers: ['running|hub.remote.send|'],
    play: (f) => f.actor.send({ type: 'hub.remote.send', to: 'a', data: 'far', from: 'r1' }),
    expect: {
      running: (f) => expect(labels(f, 'a')).toEqual(['<r1>far']),
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'hub.remote.clientUp, then hub.remote.joined, hub.remote.left and hub.remote.clientDown',
    covers: [
      'running|hub.remote.clientUp|',
      'running|hub.remote.joined|',
      'running|hub.remote.left|',
      'running|hub.remote.clientDown|',
    ],
    play: (f) => {
      f.actor.send({ type: 'hub.remote.clientUp', node: 'n1', id: 'r1', meta: undefined });
      f.actor.send({ type: 'hub.remote.joined', node: 'n1', topic: 't', id: 'r1', meta: undefined });
      f.actor.send({ type: 'hub.remote.left', topic: 't', id: 'r1' });
      f.actor.send({ type: 'hub.remote.joined', node: 'n1', topic: 't', id: 'r1', meta: undefined });
      f.actor.send({ type: 'hub.remote.clientDown', id: 'r1' });
    },
    expect: {
      running: (f) => {
        // a, in t, sees r1 join, leave, join, and leave again when its node reports it down.
        expect(labels(f, 'a')).toEqual(['joined:t:r1', 'left:t:r1', 'joined:t:r1', 'left:t:r1']);
        expect(f.actor.getSnapshot().context.remote.nodeOf('r1')).toBeUndefined();
      },
      draining: (f) => {
        dropped(f);
        expect(f.actor.getSnapshot().context.remote.nodeOf('r1')).toBeUndefined();
      },
      stopped: inert,
    },
  },
  {
    name: 'hub.remote.sync, then hub.remote.nodeDown',
    covers: ['running|hub.remote.sync|', 'running|hub.remote.nodeDown|'],
    play: (f) => {
      f.actor.send({ type: 'hub.remote.sync', node: 'n1', clients: [['r1', undefined]], joins: [['t', 'r1']] });
      f.actor.send({ type: 'hub.remote.nodeDown', node: 'n1' });
    },
    expect: {
      running: (f) => {
        expect(labels(f, 'a')).toEqual(['joined:t:r1', 'left:t:r1']);
        expect(f.actor.getSnapshot().context.remote.clientCount).toBe(0);
      },
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'hub.disconnect',
    covers: ['running|hub.disconnect|'],
    play: (f) => f.actor.send({ type: 'hub.disconnect', id: 'a', code: 4000, reason: 'kicked' }),
    expect: {
      running: (f) => {
        expect(f.writers.log.get('a')).toEqual([{ type: 'writer.close', code: 4000, reason: 'kicked' }]);
        expect(f.actor.getSnapshot().context.clients.get('a')!.ref.getSnapshot().value).toBe('closing');
      },
      draining: dropped, // every client is closing already, with the shutdown's code
      stopped: inert,
    },
  },
  {
    name: 'hub.sweep',
    covers: ['running|hub.sweep|'],
    play: (f) => f.actor.send({ type: 'hub.sweep', now: 1 }),
    expect: {
      running: (f) => {
        expect(writerTypes(f, 'a')).toEqual(['writer.heartbeat']);
        expect(writerTypes(f, 'b')).toEqual(['writer.heartbeat']);
      },
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'hub.shutdown (no inspector: the quiet path)',
    covers: ['running|hub.shutdown|'],
    play: (f) => f.actor.send({ type: 'hub.shutdown', code: 1001, reason: 'bye' }),
    expect: {
      running: (f) => {
        expect(f.actor.getSnapshot().value).toBe('draining');
        expect(f.writers.log.get('a')).toEqual([{ type: 'writer.close', code: 1001, reason: 'bye' }]);
        // No machine step: the client is stopped from open once its socket has gone.
        expect(f.actor.getSnapshot().context.clients.get('a')!.ref.getSnapshot().value).toBe('open');
      },
      draining: dropped, // a second shutdown changes nothing
      stopped: inert,
    },
  },
  {
    name: 'hub.departed: the sockets report their end',
    covers: ['(machine)|hub.departed|', 'draining|always|isEmpty'],
    play: (f) => f.closeSockets(),
    expect: {
      running: (f) => {
        expect(f.actor.getSnapshot().context.count).toBe(0);
        expect(f.forwarded).toEqual(
          expect.arrayContaining([
            { kind: 'clientDown', id: 'a' },
            { kind: 'clientDown', id: 'b' },
          ]),
        );
      },
      draining: (f) => {
        expect(f.actor.getSnapshot().value).toBe('stopped');
        expect(f.actor.getSnapshot().context.count).toBe(0);
      },
      stopped: inert,
    },
  },
  {
    name: 'hub.failed',
    covers: ['(machine)|hub.failed|'],
    play: (f) => f.actor.send({ type: 'hub.failed', during: 'test', error: new Error('x') }),
    expect: {
      running: (f) => expect(f.errors.map((e) => e.during)).toEqual(['test']),
      draining: (f) => expect(f.errors.map((e) => e.during)).toEqual(['test']),
      stopped: (f) => {
        inert(f);
        expect(f.errors).toEqual([]);
      },
    },
  },
  {
    name: 'a client actor that throws (xstate.error.actor.*)',
    covers: ['(machine)|xstate.error.actor.*|'],
    play: (f) => {
      const back = f.writers.back.get('a')!;
      back({ type: 'client.socketMessage', data: Buffer.from('boom'), binary: false });
    },
    expect: {
      running: (f) => {
        expect(f.actor.getSnapshot().context.clients.has('a')).toBe(false);
        expect(f.writers.log.get('a')).toContainEqual({ type: 'writer.close', code: 1011, reason: 'internal error' });
        expect(f.errors.map((e) => e.during)).toEqual(['client a']);
      },
      // In draining the client was handed over: its socket's messages no longer reach it.
      draining: (f) => {
        expect(f.actor.getSnapshot().value).toBe('draining');
        expect(f.errors).toEqual([]);
      },
      stopped: inert,
    },
  },
  {
    name: 'hub.shutdown with an inspector attached (watched)',
    covers: ['running|hub.shutdown|isWatched'],
    options: { watched: true },
    play: (f) => f.actor.send({ type: 'hub.shutdown', code: 1001, reason: 'bye' }),
    expect: {
      running: (f) => {
        expect(f.actor.getSnapshot().value).toBe('draining');
        // A step of the client's own machine, open → closing, whose action sends the close frame.
        const client = f.actor.getSnapshot().context.clients.get('a')!.ref.getSnapshot();
        expect(client.value).toBe('closing');
        expect(f.writers.log.get('a')).toEqual([{ type: 'writer.close', code: 1001, reason: 'bye' }]);
      },
      draining: dropped,
      stopped: inert,
    },
  },
  {
    name: 'the shutdown timeout passing',
    covers: ['draining|after shutdownTimeout|'],
    options: { shutdownTimeoutMs: 30 },
    play: async (f) => {
      if (f.actor.getSnapshot().value !== 'draining') return;
      // The machine's own `after` timer (30 ms here): wait for what it does, not for the clock.
      await new Promise<void>((resolve) => {
        f.writers.onEvent = (id, event) => id === 'b' && event.type === 'writer.terminate' && resolve();
      });
    },
    expect: {
      running: (f) => expect(allWriterEvents(f)).toEqual([]),
      // Every client still there is terminated: the machine steps each to closing.
      draining: (f) => {
        expect(writerTypes(f, 'a')).toEqual(['writer.terminate']);
        expect(writerTypes(f, 'b')).toEqual(['writer.terminate']);
      },
      stopped: inert,
    },
  },
];

describe('hub machine, model-based (xstate/graph)', () => {
  it('xstate/graph finds a path to every state, and each step of it holds on the real machine', async () => {
    expect([...hubPaths.keys()].sort()).toEqual([...HUB_STATES].sort());
    for (const state of HUB_STATES) await hubIn(state); // hubIn checks the state after the path
  });

  for (const state of HUB_STATES) {
    for (const c of HUB_CASES) {
      it(`${state} × ${c.name}`, async () => {
        // xstate warns on the console about events sent to a stopped actor: expected there.
        const warn = state === 'stopped' ? vi.spyOn(console, 'warn').mockImplementation(() => undefined) : undefined;
        const f = await hubIn(state, c.options);
        f.forwarded.length = 0;
        for (const log of f.writers.log.values()) log.length = 0;
        await c.play(f);
        c.expect[state](f, state);
        warn?.mockRestore();
      });
    }
  }

  it('every transition of the hub definition is covered by a case above', () => {
    const covered = new Set(HUB_CASES.flatMap((c) => c.covers));
    const missing = [...transitionsOf(hubMachine)].filter((key) => !covered.has(key));
    expect(missing, 'transitions with no model-based case: add one to HUB_CASES').toEqual([]);
    const stale = [...covered].filter((key) => !transitionsOf(hubMachine).has(key));
    expect(stale, 'cases naming transitions the machine no longer has').toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// Client

const CLIENT_STATES = ['open', 'closing', 'closed'] as const;
type ClientState = (typeof CLIENT_STATES)[number];

function clientFixture() {
  const writerEvents: WriterEvent[] = [];
  const handled: string[] = [];
  const departed: string[] = [];
  let owner: { send(event: ClientEvent): void } | undefined;
  const writer: Writer = {
    start: (o) => void (owner = o),
    send: (event) => void writerEvents.push(event),
    dispose: () => undefined,
    handOver: (o) => void (owner = o),
  };
  const machine = clientMachine.provide({
    actions: { handleMessage: (_, params) => void handled.push(params.data.toString()) },
  });
  const actor = createActor(machine, {
    input: {
      id: 'c1',
      meta: undefined,
      writer,
      limits: { maxMessages: 2, maxBytes: 100, policy: 'close' },
      badFrames: { max: 1, windowMs: 1_000 },
      departures: { send: (event) => void departed.push(event.id) },
    },
  }).start();
  const socket = (event: ClientEvent): void => owner?.send(event);
  return { actor, writerEvents, handled, departed, socket };
}
type ClientFixture = ReturnType<typeof clientFixture>;

const clientPaths = pathsTo(
  clientMachine,
  [
    { type: 'client.close', code: 1000, reason: '' },
    { type: 'client.socketClosed', code: 1000, reason: '' },
  ],
  { isLastStraw: () => false },
  {
    id: 'c1',
    writer: { start: () => undefined, send: () => undefined },
    departures: { send: () => undefined },
    badFrames: { max: 1, windowMs: 1 },
  },
);

function clientIn(state: ClientState): ClientFixture {
  const f = clientFixture();
  const path = clientPaths.get(state);
  if (!path) throw new Error(`xstate/graph found no path to ${state}`);
  for (const event of path) {
    if (event.type === 'client.socketClosed') f.socket(event as ClientEvent);
    else f.actor.send(event as ClientEvent);
  }
  expect(f.actor.getSnapshot().value).toBe(state);
  f.writerEvents.length = 0;
  f.departed.length = 0;
  return f;
}

interface ClientCase {
  readonly name: string;
  readonly covers: readonly string[];
  readonly play: (f: ClientFixture) => void;
  readonly expect: Record<ClientState, (f: ClientFixture) => void>;
}

const ignored = (state: ClientState) => (f: ClientFixture) => {
  expect(f.actor.getSnapshot().value).toBe(state);
  expect(f.writerEvents).toEqual([]);
  expect(f.handled).toEqual([]);
  expect(f.departed).toEqual([]);
};
/** The writer already acted on the wire: the machine records the decision, open → closing. */
const writerDecided = (f: ClientFixture) => {
  expect(f.actor.getSnapshot().value).toBe('closing');
  expect(f.writerEvents).toEqual([]);
};
const closingBy = (code: number, reason: string) => (f: ClientFixture) => {
  expect(f.actor.getSnapshot().value).toBe('closing');
  expect(f.writerEvents).toEqual([{ type: 'writer.close', code, reason }]);
};

const CLIENT_CASES: ClientCase[] = [
  {
    name: 'client.socketMessage',
    covers: ['open|client.socketMessage|'],
    play: (f) => f.socket({ type: 'client.socketMessage', data: Buffer.from('hi'), binary: false }),
    expect: {
      open: (f) => expect(f.handled).toEqual(['hi']),
      closing: ignored('closing'),
      closed: ignored('closed'),
    },
  },
  {
    name: 'client.close (by the hub)',
    covers: ['open|client.close|', 'closing|client.close|'],
    play: (f) => f.actor.send({ type: 'client.close', code: 4000, reason: 'kicked' }),
    expect: { open: closingBy(4000, 'kicked'), closing: ignored('closing'), closed: ignored('closed') },
  },
  {
    name: 'client.shutdown (the hub draining, watched)',
    covers: ['open|client.shutdown|', 'closing|client.shutdown|'],
    play: (f) => f.actor.send({ type: 'client.shutdown', code: 1001, reason: 'bye' }),
    expect: { open: closingBy(1001, 'bye'), closing: ignored('closing'), closed: ignored('closed') },
  },
  {
    name: 'client.terminate',
    covers: ['open|client.terminate|', 'closing|client.terminate|'],
    play: (f) => f.actor.send({ type: 'client.terminate' }),
    expect: {
      open: (f) => {
        expect(f.actor.getSnapshot().value).toBe('closing');
        expect(f.writerEvents).toEqual([{ type: 'writer.terminate' }]);
      },
      closing: (f) => expect(f.writerEvents).toEqual([{ type: 'writer.terminate' }]),
      closed: ignored('closed'),
    },
  },
  {
    name: 'client.reply',
    covers: ['open|client.reply|'],
    play: (f) => f.actor.send({ type: 'client.reply', frame: { byteLength: 2 } }),
    expect: {
      open: (f) => expect(f.writerEvents).toEqual([{ type: 'writer.deliver', frame: { byteLength: 2 } }]),
      closing: ignored('closing'),
      closed: ignored('closed'),
    },
  },
  {
    name: 'client.badFrame, within the limit',
    covers: ['open|client.badFrame|'],
    play: (f) => f.actor.send({ type: 'client.badFrame', now: 1 }),
    expect: {
      open: (f) => {
        expect(f.actor.getSnapshot().value).toBe('open');
        expect(f.actor.getSnapshot().context.badFrameCount).toBe(1);
      },
      closing: ignored('closing'),
      closed: ignored('closed'),
    },
  },
  {
    name: 'client.badFrame, one too many',
    covers: ['open|client.badFrame|isLastStraw'],
    play: (f) => {
      f.actor.send({ type: 'client.badFrame', now: 1 });
      f.actor.send({ type: 'client.badFrame', now: 2 });
    },
    expect: { open: closingBy(1008, 'too many bad frames'), closing: ignored('closing'), closed: ignored('closed') },
  },
  {
    name: 'client.overflowed (4008)',
    covers: ['open|client.overflowed|'],
    play: (f) => f.socket({ type: 'client.overflowed', code: 4008, reason: 'slow consumer' }),
    expect: { open: writerDecided, closing: ignored('closing'), closed: ignored('closed') },
  },
  {
    name: 'client.timedOut (heartbeat)',
    covers: ['open|client.timedOut|'],
    play: (f) => f.socket({ type: 'client.timedOut', code: 1006, reason: 'heartbeat timeout' }),
    expect: { open: writerDecided, closing: ignored('closing'), closed: ignored('closed') },
  },
  {
    name: 'client.rateLimited (1008)',
    covers: ['open|client.rateLimited|'],
    play: (f) => f.socket({ type: 'client.rateLimited', code: 1008, reason: 'rate limit exceeded' }),
    expect: { open: writerDecided, closing: ignored('closing'), closed: ignored('closed') },
  },
  {
    name: 'client.tokenExpired (4001)',
    covers: ['open|client.tokenExpired|'],
    play: (f) => f.socket({ type: 'client.tokenExpired', code: 4001, reason: 'token expired' }),
    expect: { open: writerDecided, closing: ignored('closing'), closed: ignored('closed') },
  },
  {
    name: 'client.refreshed (a new token: the writer moves its timer, the topics change)',
    covers: ['open|client.refreshed|'],
    play: (f) => f.actor.send({ type: 'client.refreshed', expiresAt: 5_000, topics: (t) => t === 'a' }),
    expect: {
      open: (f) => {
        expect(f.actor.getSnapshot().value).toBe('open');
        expect(f.writerEvents).toEqual([{ type: 'writer.expireAt', at: 5_000 }]);
        expect(f.actor.getSnapshot().context.topics?.('a')).toBe(true);
        expect(f.actor.getSnapshot().context.topics?.('b')).toBe(false);
      },
      closing: ignored('closing'),
      closed: ignored('closed'),
    },
  },
  {
    name: 'client.socketClosed',
    covers: ['open|client.socketClosed|', 'closing|client.socketClosed|'],
    play: (f) => f.socket({ type: 'client.socketClosed', code: 1006, reason: '' }),
    expect: {
      open: (f) => {
        expect(f.actor.getSnapshot().value).toBe('closed');
        expect(f.departed).toEqual(['c1']);
      },
      closing: (f) => {
        expect(f.actor.getSnapshot().value).toBe('closed');
        expect(f.departed).toEqual(['c1']);
      },
      closed: ignored('closed'), // departs once
    },
  },
];

describe('client machine, model-based (xstate/graph)', () => {
  it('xstate/graph finds a path to every state, and each step of it holds on the real machine', () => {
    expect([...clientPaths.keys()].sort()).toEqual([...CLIENT_STATES].sort());
    for (const state of CLIENT_STATES) clientIn(state);
  });

  for (const state of CLIENT_STATES) {
    for (const c of CLIENT_CASES) {
      it(`${state} × ${c.name}`, () => {
        const f = clientIn(state);
        c.play(f);
        c.expect[state](f);
      });
    }
  }

  it('every transition of the client definition is covered by a case above', () => {
    const covered = new Set(CLIENT_CASES.flatMap((c) => c.covers));
    const missing = [...transitionsOf(clientMachine)].filter((key) => !covered.has(key));
    expect(missing, 'transitions with no model-based case: add one to CLIENT_CASES').toEqual([]);
    const stale = [...covered].filter((key) => !transitionsOf(clientMachine).has(key));
    expect(stale, 'cases naming transitions the machine no longer has').toEqual([]);
  });
});
