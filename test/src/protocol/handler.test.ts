import { afterEach, describe, expect, it } from 'vitest';
import type { HubOptions } from '../../../src/types.js';
import { connectJson, type JsonClient } from '../../support/json-client.js';
import { startHub, whenCount, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

async function hubWith(options: HubOptions = {}, n = 2): Promise<JsonClient[]> {
  harness = await startHub({ protocol: 'json', ...options });
  const list: JsonClient[] = [];
  for (let i = 0; i < n; i++) list.push((await connectJson(harness.url)).client);
  await whenCount(harness.hub, (c) => c === n);
  return list;
}

const idOf = async (c: JsonClient): Promise<string> => {
  const w = c.frames.find((f) => f.type === 'welcome');
  if (w?.type !== 'welcome') throw new Error('no welcome');
  return w.id;
};

describe('JSON protocol over real sockets', () => {
  it('greets each client with welcome: its id, the protocol version and the limits', async () => {
    const [a] = await hubWith({ topics: { maxTopicsPerClient: 7 } }, 1);
    const welcome = a!.frames[0];
    expect(welcome).toEqual({
      type: 'welcome',
      id: expect.any(String),
      protocol: 1,
      limits: {
        maxPayload: 65536,
        maxTopicLength: 128,
        maxTopicsPerClient: 7,
        maxMembersPerTopic: null,
        maxBadFrames: 10,
      },
    });
    expect(harness!.hub.has((welcome as { id: string }).id)).toBe(true);
  });

  it('publish reaches the topic’s subscribers only, never the sender unless it asks for an echo', async () => {
    const [a, b, c] = await hubWith({}, 3);
    expect(await a!.call({ type: 'subscribe', topic: 'news' })).toMatchObject({ type: 'ack' });
    expect(await b!.call({ type: 'subscribe', topic: 'news' })).toMatchObject({ type: 'ack' });
    const ack = await a!.call({ type: 'publish', topic: 'news', data: { headline: 'hi' } });
    expect(ack).toMatchObject({ type: 'ack', result: { delivered: 1 } });
    expect(await b!.next('message')).toEqual({
      type: 'message',
      topic: 'news',
      from: await idOf(a!),
      data: { headline: 'hi' },
    });
    const echo = await a!.call({ type: 'publish', topic: 'news', data: 2, echo: true });
    expect(echo).toMatchObject({ result: { delivered: 2 } });
    expect(await a!.next('message')).toMatchObject({ topic: 'news', data: 2 });
    // c never subscribed: a ping round trip shows nothing else arrived before it.
    await c!.call({ type: 'ping' });
    expect(c!.frames.map((f) => f.type)).toEqual(['welcome', 'ack']);
  });

  it('a non-member may publish to a topic (canPublish decides), and unsubscribe stops delivery', async () => {
    const [a, b] = await hubWith();
    await b!.call({ type: 'subscribe', topic: 't' });
    await a!.call({ type: 'publish', topic: 't', data: 'one' });
    expect(await b!.next('message')).toMatchObject({ data: 'one' });
    await b!.call({ type: 'unsubscribe', topic: 't' });
    expect(await a!.call({ type: 'publish', topic: 't', data: 'two' })).toMatchObject({ result: { delivered: 0 } });
  });

  it('send delivers to one client by id; an unknown id is an error with the ref', async () => {
    const [a, b] = await hubWith();
    const bid = await idOf(b!);
    expect(await a!.call({ type: 'send', to: bid, data: 'psst' })).toMatchObject({
      type: 'ack',
      result: { delivered: 1 },
    });
    expect(await b!.next('message')).toEqual({ type: 'message', from: await idOf(a!), data: 'psst' });
    const err = await a!.call({ type: 'send', to: 'nobody', data: 1 });
    expect(err).toMatchObject({ type: 'error', code: 'unknown_client', message: 'no client "nobody" is connected' });
  });

  it('presence lists members with their metadata; joined/left reach the others; an abrupt disconnect leaves no ghost', async () => {
    let n = 0;
    const names = ['Ann', 'Bob', 'Cy'];
    const [a, b, c] = await hubWith(
      // c is not in the topic: members only, unless canSeePresence opens it.
      { presenceEvents: true, canSeePresence: () => true, authenticate: () => ({ meta: { name: names[n++] } }) },
      3,
    );
    const [ida, idb] = [await idOf(a!), await idOf(b!)];
    await a!.call({ type: 'subscribe', topic: 'room' });
    await b!.call({ type: 'subscribe', topic: 'room' });
    expect(await a!.next('joined')).toEqual({
      type: 'joined',
      topic: 'room',
      client: { id: idb, meta: { name: 'Bob' } },
    });
    const presence = await c!.call({ type: 'presence', topic: 'room' });
    expect(presence).toEqual({
      type: 'ack',
      ref: expect.any(String),
      result: {
        topic: 'room',
        // In id order (the page order), whatever the join order.
        members: [
          { id: ida, meta: { name: 'Ann' } },
          { id: idb, meta: { name: 'Bob' } },
        ].sort((x, y) => (x.id < y.id ? -1 : 1)),
        total: 2,
      },
    });
    b!.raw.ws.terminate();
    expect(await a!.next('left')).toEqual({ type: 'left', topic: 'room', client: { id: idb, meta: { name: 'Bob' } } });
    expect(harness!.hub.presence('room')).toEqual([{ id: ida, meta: { name: 'Ann' } }]);
    // Join and leave many times: still exactly one entry.
    for (let i = 0; i < 20; i++) {
      await c!.call({ type: 'subscribe', topic: 'room' });
      await c!.call({ type: 'unsubscribe', topic: 'room' });
    }
    expect(harness!.hub.members('room')).toEqual([ida]);
  });

  it('ping answers with an ack carrying the ref', async () => {
    const [a] = await hubWith({}, 1);
    a!.send({ type: 'ping', ref: 42 });
    expect(await a!.next('ack')).toEqual({ type: 'ack', ref: 42 });
  });

  it.each([
    ['not JSON', '{bad', 'invalid_json', /^not valid JSON/, undefined],
    ['not an object', '[1,2]', 'unknown_type', /expected a JSON object with a "type" field/, undefined],
    [
      'an unknown type',
      '{"type":"nope","ref":7}',
      'unknown_type',
      /unknown type "nope"; expected one of subscribe, unsubscribe, publish, send, presence, ping/,
      7,
    ],
    [
      'a wrongly typed topic',
      '{"type":"subscribe","topic":5,"ref":"x"}',
      'invalid_frame',
      /^subscribe: topic: expected string$/,
      'x',
    ],
    ['a missing topic', '{"type":"subscribe","ref":"m"}', 'invalid_frame', /^subscribe: topic: missing key$/, 'm'],
    [
      'a missing type',
      '{"topic":"x","ref":"t"}',
      'invalid_frame',
      /^type: missing key; expected one of subscribe, unsubscribe, publish, send, presence, ping, history, refresh$/,
      't',
    ],
    ['an empty topic', '{"type":"subscribe","topic":"","ref":"e"}', 'invalid_topic', /^subscribe: topic: /, 'e'],
    ['a missing field', '{"type":"send","data":1,"ref":1}', 'invalid_frame', /^send: to: missing key/, 1],
    [
      'an oversized topic',
      JSON.stringify({ type: 'subscribe', topic: 'x'.repeat(129), ref: 2 }),
      'invalid_topic',
      /at most 128/,
      2,
    ],
    [
      'a topic with spaces',
      '{"type":"publish","topic":"a b","data":1,"ref":3}',
      'invalid_topic',
      /^publish: topic: expected a string matching/,
      3,
    ],
    ['a bad ref type', '{"type":"ping","ref":{"x":1}}', 'invalid_frame', /^ping: ref:/, undefined],
    // Regression (found by test/fuzz): describing this type once overflowed the stack inside the client actor,
    // which left the socket open and unregistered.
    [
      'a deeply nested type',
      `{"type":${'['.repeat(20_000)}${']'.repeat(20_000)},"ref":9}`,
      'unknown_type',
      /^unknown type array; expected one of/,
      9,
    ],
  ])('%s gets its documented error, and the connection stays usable', async (_label, text, code, message, ref) => {
    const [a] = await hubWith({}, 1);
    a!.send(text);
    const err = await a!.next('error');
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    expect(err.ref).toBe(ref);
    expect(await a!.call({ type: 'ping' })).toMatchObject({ type: 'ack' });
  });

  it('a binary frame gets binary_not_supported', async () => {
    const [a] = await hubWith({}, 1);
    a!.raw.send(Buffer.from([1, 2, 3]));
    expect(await a!.next('error')).toMatchObject({ code: 'binary_not_supported' });
    expect(await a!.call({ type: 'ping' })).toMatchObject({ type: 'ack' });
  });

  it('past maxBadFrames the client is closed with 1008; others are unaffected', async () => {
    const [a, b] = await hubWith({ maxBadFrames: 3 });
    for (let i = 0; i < 4; i++) a!.send('{bad');
    expect(await a!.raw.closed).toEqual({ code: 1008, reason: 'too many bad frames' });
    expect(a!.frames.filter((f) => f.type === 'error')).toHaveLength(4);
    expect(await b!.call({ type: 'ping' })).toMatchObject({ type: 'ack' });
    await whenCount(harness!.hub, (n) => n === 1);
  });
});

describe('authorization hooks', () => {
  it('canSubscribe / canPublish refusals are error frames, not disconnects (sync and async)', async () => {
    const [a] = await hubWith(
      {
        canSubscribe: (_client, topic) => !topic.startsWith('secret'),
        canPublish: async (_client, topic) => topic !== 'readonly',
      },
      1,
    );
    expect(await a!.call({ type: 'subscribe', topic: 'secret/x' })).toMatchObject({
      type: 'error',
      code: 'forbidden',
      message: 'not allowed to subscribe to "secret/x"',
    });
    expect(await a!.call({ type: 'presence', topic: 'secret/x' })).toMatchObject({ code: 'forbidden' });
    expect(await a!.call({ type: 'publish', topic: 'readonly', data: 1 })).toMatchObject({ code: 'forbidden' });
    expect(await a!.call({ type: 'subscribe', topic: 'open' })).toMatchObject({ type: 'ack' });
    expect(await a!.call({ type: 'publish', topic: 'open', data: 1 })).toMatchObject({ type: 'ack' });
  });

  it('hooks see the client’s id and metadata', async () => {
    const seen: unknown[] = [];
    const [a] = await hubWith(
      {
        authenticate: () => ({ id: 'u1', meta: { role: 'admin' } }),
        canSubscribe: (c, t) => (seen.push([c.id, c.meta, t]), true),
      },
      1,
    );
    await a!.call({ type: 'subscribe', topic: 'x' });
    expect(seen).toEqual([['u1', { role: 'admin' }, 'x']]);
  });

  it('keeps a client’s commands in order across an asynchronous hook', async () => {
    const [a] = await hubWith({ canSubscribe: (_c, t) => new Promise((r) => setTimeout(() => r(t !== 'no'), 20)) }, 1);
    // Sent back to back: the publish must wait for the subscribe's hook, or it would not echo.
    a!.send({ type: 'subscribe', topic: 'slow', ref: 1 });
    a!.send({ type: 'publish', topic: 'slow', data: 'after', echo: true, ref: 2 });
    const first = await a!.next('ack');
    const second = await a!.next('ack');
    expect([first.ref, second.ref]).toEqual([1, 2]);
    expect(a!.frames.find((f) => f.type === 'message')).toMatchObject({ data: 'after' });
  });

  it('at most maxPendingCommands wait on hooks; beyond that, overloaded errors', async () => {
    const [a] = await hubWith({ maxPendingCommands: 2, canSubscribe: () => new Promise<boolean>(() => undefined) }, 1);
    for (let ref = 1; ref <= 4; ref++) a!.send({ type: 'subscribe', topic: `t${ref}`, ref });
    const errors = [await a!.next('error'), await a!.next('error')];
    expect(errors.map((e) => [e.ref, e.code])).toEqual([
      [3, 'overloaded'],
      [4, 'overloaded'],
    ]);
  });

  it('a hook that throws closes that client with 1011', async () => {
    const [a, b] = await hubWith({
      canSubscribe: (_c, topic) => {
        if (topic === 'boom') throw new Error('hook bug');
        return true;
      },
    });
    a!.send({ type: 'subscribe', topic: 'boom' });
    expect(await a!.raw.closed).toEqual({ code: 1011, reason: 'internal error' });
    expect(await b!.call({ type: 'subscribe', topic: 'fine' })).toMatchObject({ type: 'ack' });
  });
});

describe('hub API in JSON mode', () => {
  it('publish/broadcast/send from code arrive as message envelopes; subscribe from code joins', async () => {
    const [a, b] = await hubWith();
    const [ida, idb] = [await idOf(a!), await idOf(b!)];
    harness!.hub.subscribe(ida, 'alerts');
    await whenTopic(harness!, 'alerts', 1);
    expect(harness!.hub.publish('alerts', { level: 'high' })).toBe(1);
    expect(await a!.next('message')).toEqual({ type: 'message', topic: 'alerts', data: { level: 'high' } });
    harness!.hub.broadcast('to all', { except: ida });
    expect(await b!.next('message')).toEqual({ type: 'message', data: 'to all' });
    harness!.hub.send(idb, [1, 2]);
    expect(await b!.next('message')).toEqual({ type: 'message', data: [1, 2] });
    expect(() => harness!.hub.broadcast(Buffer.from('x'))).toThrow(/JSON data only/);
    expect(harness!.hub.topics()).toEqual([{ topic: 'alerts', members: 1 }]);
    harness!.hub.unsubscribe(ida, 'alerts');
    expect(harness!.hub.topics()).toEqual([]);
  });
});

function whenTopic(h: Harness, topic: string, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = (): boolean => h.hub.members(topic).length === n;
    if (check()) return resolve();
    const sub = h.hub.actor.subscribe(() => check() && (sub.unsubscribe(), resolve()));
  });
}
