import { afterEach, describe, expect, it } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InspectionEvent } from 'xstate';
import { createMemoryBus, memoryBroker } from '../../src/cluster/broker/memory.js';
import { connectJson } from '../support/json-client.js';
import type { Hub } from '../../src/hub.js';
import type { HubOptions } from '../../src/types.js';
import { connect, startHub, upgradeStatus, whenCount, type Harness, type TestClient } from '../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** Relay protocol, clients named by ?id= so tests can address them. */
const named: HubOptions = {
  protocol: 'relay',
  authenticate: (req) => ({ id: new URL(req.url ?? '/', 'http://h').searchParams.get('id') ?? undefined }),
};

async function clients(h: Harness, ...ids: string[]): Promise<TestClient[]> {
  const list = await Promise.all(ids.map((id) => connect(`${h.url}?id=${id}`)));
  await whenCount(h.hub, (n) => n === ids.length);
  return list;
}

/** Proves `client` received nothing more: a marker sent after everything else arrives next. */
async function nothingElse(hub: Hub, client: TestClient, id: string): Promise<void> {
  const before = client.messages.length;
  hub.send(id, '__marker__');
  await client.received(before + 1);
  expect(client.texts.at(-1)).toBe('__marker__');
  expect(client.messages.length).toBe(before + 1);
}

describe('relay (default inbound behaviour)', () => {
  it('broadcasts each text message to every other client, in order, never to the sender', async () => {
    harness = await startHub(named);
    const [a, b, c] = await clients(harness, 'a', 'b', 'c');
    const sent = Array.from({ length: 50 }, (_, i) => `m${i}`);
    for (const m of sent) a!.send(m);
    await Promise.all([b!.received(50), c!.received(50)]);
    expect(b!.texts).toEqual(sent);
    expect(c!.texts).toEqual(sent);
    expect(b!.messages.every((m) => !m.binary)).toBe(true);
    await nothingElse(harness.hub, a!, 'a');
    expect(a!.texts).toEqual(['__marker__']);
  });

  it('relays binary messages as binary, byte for byte', async () => {
    harness = await startHub(named);
    const [a, b] = await clients(harness, 'a', 'b');
    const bytes = Buffer.from([0, 1, 2, 255, 254]);
    a!.send(bytes);
    await b!.received(1);
    expect(b!.messages[0]).toEqual({ data: bytes, binary: true });
  });

  it('counts inbound and outbound messages in stats', async () => {
    harness = await startHub(named);
    const [a, b, c] = await clients(harness, 'a', 'b', 'c');
    a!.send('x');
    await Promise.all([b!.received(1), c!.received(1)]);
    expect(harness.hub.stats.messagesIn).toBe(1);
    expect(harness.hub.stats.messagesOut).toBe(2);
  });
});

describe('hub API over real sockets', () => {
  it('broadcast() sends strings as text, bytes as binary, other values as JSON, honouring except', async () => {
    harness = await startHub(named);
    const [a, b] = await clients(harness, 'a', 'b');
    harness.hub.broadcast('plain');
    harness.hub.broadcast(Buffer.from('raw'));
    harness.hub.broadcast({ n: 1, list: [true] }, { except: 'a' });
    harness.hub.broadcast('as-binary', { binary: true });
    await b!.received(4);
    expect(b!.messages.map((m) => [m.data.toString(), m.binary])).toEqual([
      ['plain', false],
      ['raw', true],
      ['{"n":1,"list":[true]}', false],
      ['as-binary', true],
    ]);
    await a!.received(3);
    expect(a!.texts).toEqual(['plain', 'raw', 'as-binary']);
  });

  it('broadcast() throws to the caller for a value with no JSON form, and the hub goes on', async () => {
    harness = await startHub(named);
    const [a] = await clients(harness, 'a');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => harness!.hub.broadcast(circular)).toThrow(TypeError);
    expect(() => harness!.hub.broadcast(undefined)).toThrow(TypeError);
    harness.hub.broadcast('fine');
    await a!.received(1);
    expect(a!.texts).toEqual(['fine']);
  });

  it('send() reaches one client only; to an unknown id it returns false', async () => {
    harness = await startHub(named);
    const [a, b] = await clients(harness, 'a', 'b');
    expect(harness.hub.send('b', 'for b')).toBe(true);
    expect(harness.hub.send('nobody', 'lost')).toBe(false);
    await b!.received(1);
    expect(b!.texts).toEqual(['for b']);
    await nothingElse(harness.hub, a!, 'a');
    expect(a!.texts).toEqual(['__marker__']);
  });

  it('lists clients with the metadata authenticate() returned', async () => {
    harness = await startHub({ protocol: 'relay', authenticate: () => ({ id: 'u1', meta: { name: 'Ann' } }) });
    await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.clients()).toEqual([{ id: 'u1', meta: { name: 'Ann' }, connectedAt: expect.any(Number) }]);
    expect(harness.hub.has('u1')).toBe(true);
  });

  it('generates a unique id per connection when authenticate() names none', async () => {
    harness = await startHub();
    await Promise.all([connect(harness.url), connect(harness.url), connect(harness.url)]);
    await whenCount(harness.hub, (n) => n === 3);
    const ids = harness.hub.clients().map((c) => c.id);
    expect(new Set(ids).size).toBe(3);
  });

  it('unregisters a client whose socket closes, whether it closes cleanly or drops', async () => {
    harness = await startHub(named);
    const [a, b] = await clients(harness, 'a', 'b');
    a!.ws.close(1000, 'bye');
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.has('a')).toBe(false);
    b!.ws.terminate();
    await whenCount(harness.hub, (n) => n === 0);
    expect(harness.hub.actor.getSnapshot().value).toBe('running');
  });

  it('disconnect() closes one client with the given code', async () => {
    harness = await startHub(named);
    const [a, b] = await clients(harness, 'a', 'b');
    expect(harness.hub.disconnect('a', 4000, 'kicked')).toBe(true);
    expect(await a!.closed).toEqual({ code: 4000, reason: 'kicked' });
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.has('b')).toBe(true);
    expect(b!.ws.readyState).toBe(b!.ws.OPEN);
  });

  it('sending hub events to the actor directly works like the handle', async () => {
    harness = await startHub(named);
    const [a, b] = await clients(harness, 'a', 'b');
    harness.hub.actor.send({ type: 'hub.broadcast', data: 'direct', except: 'b' });
    harness.hub.actor.send({ type: 'hub.send', to: 'b', data: 'to b' });
    await Promise.all([a!.received(1), b!.received(1)]);
    expect(a!.texts).toEqual(['direct']);
    expect(b!.texts).toEqual(['to b']);
  });
});

describe('the handle answers what callers need (no reading of the machine context)', () => {
  it('topic membership and counts, client info, reachability, presence and state', async () => {
    harness = await startHub({
      ...named,
      authenticate: (req) => ({
        id: new URL(req.url ?? '/', 'http://h').searchParams.get('id') ?? undefined,
        meta: { n: 1 },
      }),
    });
    await clients(harness, 'a', 'b');
    const hub = harness.hub;
    hub.subscribe('a', 'room');
    expect(hub.isMember('a', 'room')).toBe(true);
    expect(hub.isMember('b', 'room')).toBe(false);
    expect(hub.topicCount).toBe(1);
    expect(hub.presence('room')).toEqual([{ id: 'a', meta: { n: 1 } }]);
    expect(hub.client('a')).toEqual({ id: 'a', meta: { n: 1 }, connectedAt: expect.any(Number) });
    expect(hub.client('nobody')).toBeUndefined();
    expect(hub.reachable('b')).toBe(true);
    expect(hub.reachable('nobody')).toBe(false);
    expect(hub.state).toBe('running');
    hub.unsubscribe('a', 'room');
    expect(hub.topicCount).toBe(0);
    await hub.close({ timeoutMs: 1_000 });
    expect(hub.state).toBe('stopped');
  });

  it('forwardedTo: the clients on other nodes a publish or broadcast goes to the broker for', async () => {
    const bus = createMemoryBus();
    const far = await startHub({ ...named, cluster: { broker: memoryBroker(bus), nodeId: 'far' } });
    harness = await startHub({ ...named, cluster: { broker: memoryBroker(bus), nodeId: 'near' } });
    try {
      await clients(far, 'x', 'y');
      far.hub.subscribe('x', 'room');
      const hub = harness.hub;
      await new Promise<void>((resolve) => {
        const known = () => hub.reachable('y') && hub.members('room').length === 1;
        if (known()) return resolve();
        const sub = hub.actor.subscribe(() => known() && (sub.unsubscribe(), resolve()));
      });
      expect(hub.forwardedTo({ topic: 'room' })).toBe(1);
      expect(hub.forwardedTo({ topic: 'room', except: 'x' })).toBe(0);
      expect(hub.forwardedTo({ topic: 'empty' })).toBe(0);
      expect(hub.forwardedTo()).toBe(2);
      expect(hub.forwardedTo({ except: 'y' })).toBe(1);
      // A single node forwards to nobody.
      expect(far.hub.forwardedTo({ topic: 'room' })).toBe(0);
    } finally {
      await far.stop();
    }
  });

  it('presence is built once: the handle and the wire list the same members in the same order', async () => {
    const bus = createMemoryBus();
    const json: HubOptions = { ...named, protocol: 'json' };
    const far = await startHub({ ...json, cluster: { broker: memoryBroker(bus), nodeId: 'far' } });
    harness = await startHub({ ...json, cluster: { broker: memoryBroker(bus), nodeId: 'near' } });
    try {
      // Ids interleaved across the nodes: local-first concatenation and id order differ.
      await clients(far, 'a', 'c');
      await clients(harness, 'b', 'd');
      for (const id of ['a', 'c']) far.hub.subscribe(id, 'room');
      for (const id of ['b', 'd']) harness.hub.subscribe(id, 'room');
      const hub = harness.hub;
      await new Promise<void>((resolve) => {
        const known = () => hub.members('room').length === 4;
        if (known()) return resolve();
        const sub = hub.actor.subscribe(() => known() && (sub.unsubscribe(), resolve()));
      });
      const { client } = await connectJson(`${harness.url}?id=e`);
      await client.call({ type: 'subscribe', topic: 'room' });
      const answer = await client.call({ type: 'presence', topic: 'room' });
      const wire = (answer as { result: { members: { id: string }[] } }).result.members.map((m) => m.id);
      expect(wire).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(hub.presence('room').map((m) => m.id)).toEqual(wire);
    } finally {
      await far.stop();
    }
  });

  it('no file of src/ outside the handle reads the hub machine’s context', async () => {
    const root = fileURLToPath(new URL('../../src/', import.meta.url));
    const offenders: string[] = [];
    for (const file of await readdir(root, { recursive: true })) {
      // The handle is the boundary; the viewer draws the machine; the SDK reads its own actor.
      if (!file.endsWith('.ts') || file === 'hub.ts' || /^(observability\/viewer|client)\//.test(file)) continue;
      const text = await readFile(path.join(root, file), 'utf8');
      if (/\.getSnapshot\(\)\s*\.context\b/.test(text)) offenders.push(file);
    }
    expect(offenders).toEqual([]);
  });

  it('the actor takes public commands only: internal events do not type-check', () => {
    // Never called: the assertions are the @ts-expect-error lines, checked by `npm run typecheck`.
    const typeOnly = (hub: Hub): void => {
      // @ts-expect-error hub.sweep is the hub's own timer event
      hub.actor.send({ type: 'hub.sweep', now: 0 });
      // @ts-expect-error hub.remote.* come from the cluster link only
      hub.actor.send({ type: 'hub.remote.nodeDown', node: 'n1' });
      hub.actor.send({ type: 'hub.broadcast', data: 'ok' });
    };
    expect(typeof typeOnly).toBe('function');
  });
});

describe('onMessage hook', () => {
  it('replaces the relay: the hook decides who gets what', async () => {
    harness = await startHub({
      ...named,
      onMessage: (client, data) => client.send(`echo:${String(data).toUpperCase()} from ${client.id}`),
    });
    const [a, b] = await clients(harness, 'a', 'b');
    a!.send('hi');
    await a!.received(1);
    expect(a!.texts).toEqual(['echo:HI from a']);
    await nothingElse(harness.hub, b!, 'b');
    expect(b!.texts).toEqual(['__marker__']);
  });

  it('passes text as a string and binary as a Buffer', async () => {
    const seen: unknown[] = [];
    let allSeen: () => void = () => undefined;
    const three = new Promise<void>((resolve) => (allSeen = resolve));
    harness = await startHub({ ...named, onMessage: (_c, data) => void (seen.push(data) === 3 && allSeen()) });
    const [a] = await clients(harness, 'a');
    a!.send('text');
    a!.send(Buffer.from([1, 2]));
    a!.send('done');
    await three;
    expect(seen).toEqual(['text', Buffer.from([1, 2]), 'done']);
  });

  it.each([
    [
      'throws',
      () => {
        throw new Error('hook bug');
      },
    ],
    [
      'rejects',
      async () => {
        throw new Error('async hook bug');
      },
    ],
  ])('a hook that %s closes only that client with 1011', async (_label, hook) => {
    harness = await startHub({ ...named, onMessage: (client, data) => (data === 'bad' ? hook() : client.send('ok')) });
    const [a, b] = await clients(harness, 'a', 'b');
    a!.send('bad');
    expect(await a!.closed).toEqual({ code: 1011, reason: 'internal error' });
    b!.send('good');
    await b!.received(1);
    expect(b!.texts).toEqual(['ok']);
    expect(harness.hub.stats.hookErrors).toBe(1);
    await whenCount(harness.hub, (n) => n === 1);
  });
});

describe('close()', () => {
  it('sends 1001 to every client, resolves when all are gone, and refuses new upgrades', async () => {
    harness = await startHub(named);
    const [a, b] = await clients(harness, 'a', 'b');
    await harness.hub.close();
    expect(await a!.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(await b!.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(harness.hub.size).toBe(0);
    expect(harness.hub.actor.getSnapshot().status).toBe('done');
    expect(await upgradeStatus(harness.url)).toBe(503);
  });

  it('terminates a client that never answers the close handshake once the timeout passes', async () => {
    harness = await startHub({ ...named, closeTimeoutMs: 60_000 });
    const [a, b] = await clients(harness, 'a', 'b');
    // `a` stops reading: it will never send its close frame back.
    (a!.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    await harness.hub.close({ timeoutMs: 100, code: 1012, reason: 'restart' });
    expect(await b!.closed).toEqual({ code: 1012, reason: 'restart' });
    expect(harness.hub.size).toBe(0);
    expect(harness.hub.actor.getSnapshot().status).toBe('done');
  });

  it('is idempotent', async () => {
    harness = await startHub();
    const first = harness.hub.close();
    expect(harness.hub.close()).toBe(first);
    await first;
  });
});

describe('inspection', () => {
  it('an inspect observer sees the hub and every client actor as its child, with its states', async () => {
    const events: InspectionEvent[] = [];
    harness = await startHub({ ...named, inspect: (e) => void events.push(e) });
    const [a] = await clients(harness, 'a');
    const hubRef = harness.hub.actor;
    const created = events.filter((e) => e.type === '@xstate.actor').map((e) => e.actorRef);
    expect(created).toContain(hubRef);
    const clientRef = created.find((ref) => (ref as { id?: string }).id === 'a');
    expect((clientRef as unknown as { _parent?: unknown })._parent).toBe(hubRef);
    const statesOfA = () =>
      events.flatMap((e) =>
        e.type === '@xstate.snapshot' && e.actorRef === clientRef ? [(e.snapshot as { value?: unknown }).value] : [],
      );
    expect(statesOfA()).toContain('open');
    a!.ws.close();
    await whenCount(harness.hub, (n) => n === 0);
    expect(statesOfA().at(-1)).toBe('closed');
  });
});
