import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Schema } from 'effect';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createClient, type ClientOptions, type ClientState, type HubClient } from '../../../src/client/index.js';
import { createHub, type Hub } from '../../../src/hub.js';
import type { HubOptions } from '../../../src/types.js';
import { silentLogger, startHub, type Harness } from '../../support/ws-client.js';
import { reach, subscribed } from '../../support/client-states.js';

/**
 * The SDK against a real hub in this process over real sockets on port 0 (Node's `ws` as the
 * WebSocket). Waits are events (state changes, handlers), never sleeps.
 */

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function hub(options: HubOptions = {}): Promise<Harness> {
  const h = await startHub(options);
  cleanups.push(() => h.stop());
  return h;
}

const FAST = { reconnect: { minDelayMs: 20, maxDelayMs: 200 }, ackTimeoutMs: 5_000 } as const;

function client(url: string, options: ClientOptions = {}): HubClient {
  const c = createClient(url, { WebSocket, ...FAST, ...options });
  cleanups.push(() => c.close());
  return c;
}

/** A hub on a fixed port that can be stopped and started again (a server restart). */
async function restartableHub(options: HubOptions = {}) {
  let current: { hub: Hub; server: http.Server } | undefined;
  let port = 0;
  const start = async () => {
    const h = createHub({ logger: silentLogger, ...options });
    const server = http.createServer((_req, res) => res.writeHead(404).end());
    h.attach(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    current = { hub: h, server };
    return h;
  };
  const stop = async () => {
    if (!current) return;
    const { hub: h, server } = current;
    current = undefined;
    await h.close({ timeoutMs: 200 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  await start();
  cleanups.push(stop);
  return { start, stop, url: () => `ws://127.0.0.1:${port}/ws`, hub: () => current!.hub };
}

describe('client SDK against a real hub', () => {
  it('connects: state connecting → connected, id from welcome', async () => {
    const h = await hub();
    const c = client(h.url);
    const states: ClientState[] = [];
    c.on('state', (s) => states.push(s));
    expect(c.state).toBe('connecting');
    await reach(c, 'connected');
    expect(states).toEqual(['connected']);
    expect(h.hub.has(c.id!)).toBe(true);
  });

  it('subscribe, publish, handler (data, info); publish resolves with the ack result', async () => {
    const h = await hub();
    const a = client(h.url);
    const b = client(h.url);
    const got: unknown[] = [];
    const sub = b.subscribe<{ text: string }>('room:1', (data, info) => got.push([data.text, info]));
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    expect(sub.state).toBe('subscribed');
    await expect(a.publish('room:1', { text: 'hi' })).resolves.toEqual({ delivered: 1, forwarded: 0 });
    await expect.poll(() => got).toEqual([['hi', { topic: 'room:1', from: a.id }]]);
  });

  it('send, presence; direct messages reach client.on("message")', async () => {
    // a is not in the topic: presence is members only unless canSeePresence opens it.
    const h = await hub({ canSeePresence: () => true });
    const a = client(h.url);
    const b = client(h.url);
    const direct: unknown[] = [];
    b.on('message', (data, info) => direct.push([data, info]));
    await Promise.all([reach(a, 'connected'), reach(b, 'connected')]);
    await expect(a.send(b.id!, 'psst')).resolves.toEqual({ delivered: 1, forwarded: 0 });
    await expect.poll(() => direct).toEqual([['psst', { from: a.id }]]);
    await subscribed(b.subscribe('room', () => {}));
    await expect(a.presence('room')).resolves.toEqual({ topic: 'room', members: [{ id: b.id }], total: 1 });
  });

  it('a refused command rejects with an Error whose .code is the protocol code', async () => {
    const h = await hub({ canPublish: () => false });
    const a = client(h.url);
    const err = await a.publish('room', 1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'forbidden', message: 'not allowed to publish to "room"' });
    await expect(a.send('nobody', 1)).rejects.toMatchObject({ code: 'unknown_client' });
  });

  it('a refused subscription is failed with the error, and the connection goes on', async () => {
    const h = await hub({ canSubscribe: (_c, topic) => topic !== 'secret' });
    const a = client(h.url);
    const sub = a.subscribe('secret', () => {});
    await new Promise<void>((resolve) => sub.on('state', (s) => s === 'failed' && resolve()));
    expect(sub.error).toEqual({ code: 'forbidden', message: 'not allowed to subscribe to "secret"' });
    await subscribed(a.subscribe('open', () => {}));
    expect(() => a.subscribe('open', () => {})).toThrow(expect.objectContaining({ code: 'already_subscribed' }));
  });

  it('commands issued before the welcome wait in the queue and go out once connected', async () => {
    const h = await hub();
    const b = client(h.url);
    const got: unknown[] = [];
    await subscribed(b.subscribe('q', (d) => got.push(d)));
    const a = client(h.url);
    expect(a.state).toBe('connecting');
    const acks = await Promise.all([a.publish('q', 1), a.publish('q', 2), a.publish('q', 3)]);
    expect(acks).toEqual([
      { delivered: 1, forwarded: 0 },
      { delivered: 1, forwarded: 0 },
      { delivered: 1, forwarded: 0 },
    ]);
    await expect.poll(() => got).toEqual([1, 2, 3]);
  });

  it('the offline queue is bounded: one more rejects at once with queue_full', async () => {
    const h = await hub();
    const a = client(h.url, { maxQueuedCommands: 2 });
    const first = [a.publish('t', 1), a.publish('t', 2)];
    await expect(a.publish('t', 3)).rejects.toMatchObject({ code: 'queue_full' });
    await expect(Promise.all(first)).resolves.toHaveLength(2);
  });

  it('a command not answered within ackTimeoutMs rejects with timeout', async () => {
    const h = await hub({ canPublish: () => new Promise<boolean>(() => {}) }); // never decides
    const a = client(h.url, { ackTimeoutMs: 150 });
    await reach(a, 'connected');
    await expect(a.publish('t', 1)).rejects.toMatchObject({ code: 'timeout' });
  });

  it('in flight when the connection drops: rejects with disconnected, is not resent; the client reconnects', async () => {
    let published = 0;
    const h = await hub({
      canPublish: () => {
        published++;
        return new Promise<boolean>(() => {}); // the ack never comes
      },
    });
    const a = client(h.url);
    await reach(a, 'connected');
    const inFlight = a.publish('t', 'once');
    await expect.poll(() => published).toBe(1);
    const firstId = a.id!;
    h.hub.disconnect(firstId, 4000, 'test drop');
    await expect(inFlight).rejects.toMatchObject({ code: 'disconnected' });
    await reach(a, 'reconnecting');
    await reach(a, 'connected');
    expect(a.id).not.toBe(firstId);
    expect(a.lastClose).toBeUndefined();
    expect(published).toBe(1); // never resent
  });

  it('a terminal close code (1008) stops reconnects and says why in the state event', async () => {
    const h = await hub();
    const a = client(h.url);
    await reach(a, 'connected');
    const detail = new Promise((resolve) => a.on('state', (s, d) => s === 'closed' && resolve(d)));
    h.hub.disconnect(a.id!, 1008, 'policy');
    await expect(detail).resolves.toEqual({ code: 1008, reason: 'policy', terminal: true, attempt: 0 });
    await expect(a.publish('t', 1)).rejects.toMatchObject({ code: 'closed' });
  });

  it('a handshake refused with 401 is terminal (Node ws shows the status as 4401)', async () => {
    const h = await hub({ auth: { tokens: ['good'] } });
    const bad = client(h.url, { token: 'bad' });
    const detail = new Promise((resolve) => bad.on('state', (s, d) => s === 'closed' && resolve(d)));
    await expect(detail).resolves.toMatchObject({ code: 4401, terminal: true });
    const good = client(h.url, { token: async () => 'good' });
    await reach(good, 'connected');
  });

  it('close(): state closed, no reconnect, queued commands reject closed', async () => {
    const h = await hub();
    const a = client(h.url);
    const queued = a.publish('t', 1);
    a.close();
    expect(a.state).toBe('closed');
    await expect(queued).rejects.toMatchObject({ code: 'closed' });
    expect(() => a.subscribe('x', () => {})).toThrow(expect.objectContaining({ code: 'closed' }));
    expect(h.hub.size).toBe(0);
  });

  it('server restart: reconnects by itself, resubscribes, and messages flow again', async () => {
    const server = await restartableHub();
    const a = client(server.url());
    const b = client(server.url());
    const got: unknown[] = [];
    const sub = b.subscribe('room', (d) => got.push(d));
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    await a.publish('room', 'before');
    const subStates: string[] = [];
    sub.on('state', (s) => subStates.push(s));
    await server.stop(); // 1001 to everyone
    await reach(b, 'reconnecting');
    expect(b.lastClose).toMatchObject({ code: 1001 });
    await server.start();
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    expect(subStates).toEqual(['subscribing', 'subscribed']);
    expect(server.hub().members('room')).toEqual([b.id]);
    await a.publish('room', 'after');
    await expect.poll(() => got).toEqual(['before', 'after']);
  });

  it('unsubscribe: the hub forgets the membership, the handler gets nothing more', async () => {
    const h = await hub();
    const a = client(h.url);
    const b = client(h.url);
    const got: unknown[] = [];
    const sub = b.subscribe('room', (d) => got.push(d));
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    sub.unsubscribe();
    expect(sub.state).toBe('unsubscribed');
    await expect.poll(() => h.hub.members('room')).toEqual([]);
    await expect(a.publish('room', 1)).resolves.toEqual({ delivered: 0, forwarded: 0 });
    expect(got).toEqual([]);
  });

  it('schema: valid data reaches the handler typed, invalid data the invalid event (effect/Schema as Standard Schema)', async () => {
    const h = await hub();
    const a = client(h.url);
    const b = client(h.url);
    const Chat = Schema.toStandardSchemaV1(Schema.Struct({ text: Schema.String }));
    const good: string[] = [];
    const bad: unknown[] = [];
    const sub = b.subscribe('chat', (data, info) => good.push(`${data.text}@${info.topic}`), { schema: Chat });
    sub.on('invalid', (data, issues) => bad.push([data, issues.length > 0]));
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    await a.publish('chat', { text: 'ok' });
    await a.publish('chat', { text: 42 });
    await a.publish('chat', { text: 'ok2' });
    await expect.poll(() => [good, bad]).toEqual([['ok@chat', 'ok2@chat'], [[{ text: 42 }, true]]]);
  });

  it('an asynchronous schema keeps the order of messages', async () => {
    const h = await hub();
    const a = client(h.url);
    const b = client(h.url);
    let n = 0;
    const slowFirst = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (value: unknown) =>
          n++ === 0
            ? new Promise<{ value: number }>((r) => setTimeout(() => r({ value: value as number }), 50))
            : { value: value as number },
      },
    };
    const got: number[] = [];
    const sub = b.subscribe('s', (d) => got.push(d as number), { schema: slowFirst });
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    for (let i = 1; i <= 5; i++) await a.publish('s', i);
    await expect.poll(() => got).toEqual([1, 2, 3, 4, 5]);
  });

  it('presence: fetched after subscribing and kept current from joined/left', async () => {
    const h = await hub({ presenceEvents: true });
    const a = client(h.url);
    const sub = a.subscribe('p', () => {}, { presence: true });
    await subscribed(sub);
    await expect.poll(() => sub.presence.map((m) => m.id)).toEqual([a.id]);
    const b = client(h.url);
    await subscribed(b.subscribe('p', () => {}));
    await expect.poll(() => sub.presence.map((m) => m.id)).toEqual([a.id, b.id]);
    b.close();
    await expect.poll(() => sub.presence.map((m) => m.id)).toEqual([a.id]);
  });

  it('presence pages: limit and cursor walk every member once; sub.presence follows the pages', async () => {
    // Pages of 2 on the hub: 5 members take 3 pages.
    const h = await hub({ presenceEvents: true, topics: { presencePageSize: 2 } });
    const members = Array.from({ length: 5 }, () => client(h.url));
    await Promise.all(members.map((m) => subscribed(m.subscribe('pg', () => {}))));
    const ids = members.map((m) => m.id!).sort();
    const a = members[0]!;

    const first = await a.presence('pg');
    expect(first).toMatchObject({ topic: 'pg', total: 5, cursor: expect.any(String) });
    expect(first.members).toHaveLength(2);
    const seen: string[] = [];
    let page = first;
    for (;;) {
      seen.push(...page.members.map((m) => m.id));
      if (page.cursor === undefined) break;
      page = await a.presence('pg', { cursor: page.cursor });
      expect(page.total).toBe(5);
    }
    expect(seen).toEqual(ids); // id order, each once
    const one = await a.presence('pg', { limit: 1 });
    expect(one.members.map((m) => m.id)).toEqual([ids[0]]);
    expect(one.cursor).toEqual(expect.any(String));

    // A presence subscription holds every page, and its total.
    const watcher = client(h.url);
    const sub = watcher.subscribe('pg', () => {}, { presence: true });
    await subscribed(sub);
    await expect.poll(() => sub.presenceTotal).toBe(6);
    expect(sub.presence.map((m) => m.id).sort()).toEqual([...ids, watcher.id!].sort());
    const late = client(h.url);
    await subscribed(late.subscribe('pg', () => {}));
    await expect.poll(() => sub.presenceTotal).toBe(7);
    expect(sub.presence.map((m) => m.id)).toContain(late.id);
    const gone = members[1]!.id!;
    members[1]!.close();
    await expect.poll(() => sub.presenceTotal).toBe(6);
    expect(sub.presence.map((m) => m.id)).not.toContain(gone);
    expect(sub.presence).toHaveLength(6);

    // maxPresenceMembers bounds the list; the total still counts everyone.
    const capped = client(h.url, { maxPresenceMembers: 3 });
    const csub = capped.subscribe('pg', () => {}, { presence: true });
    await subscribed(csub);
    await expect.poll(() => csub.presenceTotal).toBe(7);
    expect(csub.presence).toHaveLength(3);
  });

  it('a throwing handler is reported on error and delivery goes on', async () => {
    const h = await hub();
    const a = client(h.url);
    const b = client(h.url);
    const errors: string[] = [];
    b.on('error', (e) => errors.push(e.code));
    const got: unknown[] = [];
    const sub = b.subscribe('t', (d) => {
      got.push(d);
      if (d === 1) throw new Error('boom');
    });
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    await a.publish('t', 1);
    await a.publish('t', 2);
    await expect.poll(() => got).toEqual([1, 2]);
    expect(errors).toEqual(['handler_failed']);
  });

  it('a publish larger than the hub maxPayload rejects locally with too_large (no 1009 close)', async () => {
    const h = await hub({ maxPayload: 1024 });
    const a = client(h.url);
    await reach(a, 'connected');
    await expect(a.publish('t', 'x'.repeat(2000))).rejects.toMatchObject({ code: 'too_large' });
    expect(a.state).toBe('connected');
  });

  it('an oversized command queued while offline rejects too_large when flushed; the client stays up', async () => {
    const h = await hub({ maxPayload: 1024 });
    const a = client(h.url);
    expect(a.state).toBe('connecting'); // the hub's maxPayload is not known yet: these wait in the queue
    const big = a.publish('t', 'x'.repeat(2000));
    const bigTopic = a.subscribe('y'.repeat(2000), () => {});
    const small = a.publish('t', 'fits');
    await expect(big).rejects.toMatchObject({ code: 'too_large' });
    await expect(small).resolves.toEqual({ delivered: 0, forwarded: 0 });
    await new Promise<void>((resolve) =>
      bigTopic.state === 'failed' ? resolve() : bigTopic.on('state', () => resolve()),
    );
    expect(bigTopic.state).toBe('failed');
    expect(bigTopic.error).toMatchObject({ code: 'too_large' });
    expect(a.state).toBe('connected');
    expect(h.hub.has(a.id!)).toBe(true);
  });

  it('data with no JSON form rejects encode_failed when issued, offline or not; nothing is sent', async () => {
    const h = await hub();
    const a = client(h.url);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(a.publish('t', cyclic)).rejects.toMatchObject({ code: 'encode_failed' });
    await reach(a, 'connected');
    await expect(a.publish('t', 10n)).rejects.toMatchObject({ code: 'encode_failed' });
    await expect(a.publish('t', 'fine')).resolves.toEqual({ delivered: 0, forwarded: 0 });
  });

  it('inspect: the connection actor and its subscriptions are seen by the inspector', async () => {
    const h = await hub();
    const seen = new Set<string>();
    const a = client(h.url, {
      inspect: (e) => {
        if (e.type === '@xstate.snapshot') {
          const s = e.snapshot as { value?: unknown };
          seen.add(`${(e.actorRef as unknown as { id: string }).id}:${JSON.stringify(s.value)}`);
        }
      },
    });
    await subscribed(a.subscribe('i', () => {}));
    expect([...seen]).toEqual(expect.arrayContaining(['sub:i:"subscribing"', 'sub:i:"subscribed"']));
    expect([...seen].some((s) => s.endsWith(':{"connected":"quiet"}'))).toBe(true);
  });

  it('rejects a URL that is not ws:// or wss://, and a missing WebSocket', () => {
    expect(() => createClient('http://x/ws', { WebSocket })).toThrow(/ws:\/\/ or wss:\/\//);
    // No global WebSocket (Node 20, or taken away here on Node 22+) and no option: a TypeError naming the fix.
    const g = globalThis as { WebSocket?: unknown };
    const saved = Object.getOwnPropertyDescriptor(g, 'WebSocket');
    delete g.WebSocket;
    try {
      expect(() => createClient('ws://127.0.0.1:1/ws')).toThrow(
        new TypeError("createClient: no global WebSocket (Node 20): pass { WebSocket } from the 'ws' package"),
      );
    } finally {
      if (saved) Object.defineProperty(g, 'WebSocket', saved);
    }
  });

  it('token(): called again before every connect, across a drop by the server', async () => {
    const offered: string[] = [];
    const h = await hub({
      authenticate: (req) => {
        offered.push(String(req.headers['sec-websocket-protocol']));
        return true;
      },
    });
    let calls = 0;
    const a = client(h.url, { token: () => `t${++calls}` });
    await reach(a, 'connected');
    h.hub.disconnect(a.id!, 4000, 'drop');
    await reach(a, 'reconnecting');
    await reach(a, 'connected');
    expect(calls).toBe(2);
    expect(offered).toEqual(['actorhub,bearer.t1', 'actorhub,bearer.t2']);
  });

  it('token expiry: the hub closes with 4001, the client reconnects with a fresh token()', async () => {
    const offered: string[] = [];
    const h = await hub({
      // The first token expires almost at once; the next ones never do.
      authenticate: (req) => {
        const protocols = String(req.headers['sec-websocket-protocol']);
        offered.push(protocols);
        return protocols.endsWith('bearer.t1') ? { expiresAt: Date.now() + 100 } : true;
      },
    });
    let calls = 0;
    const a = client(h.url, { token: async () => `t${++calls}` });
    const closes: unknown[] = [];
    a.on('state', (s, d) => s === 'reconnecting' && closes.push(d.code));
    await reach(a, 'connected');
    await reach(a, 'reconnecting');
    await reach(a, 'connected');
    expect(closes).toEqual([4001]);
    expect(calls).toBe(2);
    expect(offered).toEqual(['actorhub,bearer.t1', 'actorhub,bearer.t2']);
  });

  it('a command that times out in the offline queue rejects, and is never sent later', async () => {
    const published: string[] = [];
    const server = await restartableHub({
      canPublish: (_c, topic) => {
        published.push(topic);
        return true;
      },
    });
    const a = client(server.url(), { ackTimeoutMs: 200 });
    await reach(a, 'connected');
    await server.stop();
    await reach(a, 'reconnecting');
    await expect(a.publish('queued', 1)).rejects.toMatchObject({ code: 'timeout' });
    await server.start();
    await reach(a, 'connected');
    // Commands go out in order: once the next one has reached the hub, the first would have too.
    a.publish('after', 2).catch(() => {}); // its answer does not matter here (200 ms on a loaded machine)
    await expect.poll(() => published).toContain('after');
    expect(published).toEqual(['after']);
  });
});

describe('client SDK recovery against a hub with history', () => {
  const history = { history: { size: 1_000 } } as const;

  it('a subscriber cut while a publisher keeps publishing gets every message once, in order', async () => {
    const h = await hub(history);
    const pub = client(h.url);
    const b = client(h.url);
    const got: number[] = [];
    const offsets: number[] = [];
    const sub = b.subscribe<number>('feed', (d, info) => {
      got.push(d);
      offsets.push(info.offset!);
    });
    const recovered: unknown[] = [];
    const gaps: unknown[] = [];
    sub.on('recovered', (r) => recovered.push(r));
    sub.on('gap', (g) => gaps.push(g));
    await Promise.all([reach(pub, 'connected'), subscribed(sub)]);
    expect(sub.position).toMatchObject({ offset: 0 });
    const N = 300;
    let cut = false;
    for (let i = 1; i <= N; i++) {
      await pub.publish('feed', i);
      if (i === 100) {
        cut = h.hub.disconnect(b.id!, 4000, 'cut'); // not terminal: b reconnects with since
        await reach(b, 'reconnecting');
      }
    }
    expect(cut).toBe(true);
    await expect.poll(() => got.length, { timeout: 10_000 }).toBe(N);
    expect(got).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(offsets).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(recovered).toHaveLength(1);
    expect(gaps).toEqual([]);
    expect(sub.position).toMatchObject({ offset: N });
  });

  it('own publishes without echo advance the position: no gap, no duplicate after a reconnect', async () => {
    const h = await hub(history);
    const a = client(h.url);
    const other = client(h.url);
    const got: unknown[] = [];
    const sub = a.subscribe('mixed', (d) => got.push(d));
    await Promise.all([reach(other, 'connected'), subscribed(sub)]);
    await other.publish('mixed', 'o1'); // offset 1, delivered to a
    await a.publish('mixed', 'a2'); // offset 2, not echoed: the ack moves a's position
    await other.publish('mixed', 'o3');
    await expect.poll(() => got).toEqual(['o1', 'o3']);
    expect(sub.position).toMatchObject({ offset: 3 });
    const gaps: unknown[] = [];
    sub.on('gap', (g) => gaps.push(g));
    const again = new Promise<void>((resolve) => sub.on('recovered', () => resolve()));
    h.hub.disconnect(a.id!, 4000, 'cut');
    await again;
    await other.publish('mixed', 'o4');
    await expect.poll(() => got).toEqual(['o1', 'o3', 'o4']);
    expect(gaps).toEqual([]);
  });

  it('a restarted hub (a new in-memory epoch) is a gap: the subscription says so and continues live', async () => {
    const server = await restartableHub(history);
    const pub = client(server.url());
    const b = client(server.url());
    const got: unknown[] = [];
    const sub = b.subscribe('g', (d) => got.push(d));
    await Promise.all([reach(pub, 'connected'), subscribed(sub)]);
    await pub.publish('g', 'one');
    await expect.poll(() => got).toEqual(['one']);
    const before = sub.position!;
    const gap = new Promise<unknown>((resolve) => sub.on('gap', resolve));
    await server.stop();
    await server.start();
    const info = (await gap) as { from: { epoch: string }; to: { epoch: string; offset: number } };
    expect(info.from).toEqual(before);
    expect(info.to.epoch).not.toBe(before.epoch);
    await subscribed(sub);
    await reach(pub, 'connected');
    await pub.publish('g', 'two');
    await expect.poll(() => got).toEqual(['one', 'two']);
  });

  it('history(): the newest messages, and a page forward from a position', async () => {
    const h = await hub(history);
    const a = client(h.url);
    for (const d of ['x', 'y', 'z']) await a.publish('h', d);
    const newest = await a.history('h', { limit: 2 });
    expect(newest.messages.map((m) => [m.offset, m.data])).toEqual([
      [2, 'y'],
      [3, 'z'],
    ]);
    const page = await a.history('h', { limit: 1, since: { epoch: newest.epoch, offset: 1 } });
    expect(page.messages.map((m) => m.data)).toEqual(['y']);
  });
});

describe('createHub({ topicSchemas }): one schema module for the server and the client', () => {
  // The shared module: effect/Schema, as a Standard Schema on both sides.
  const Chat = Schema.toStandardSchemaV1(Schema.Struct({ text: Schema.String }));

  it('refuses a publish whose data does not match with invalid_data; it reaches no one', async () => {
    const h = await hub({ topicSchemas: { 'chat:*': Chat } });
    const a = client(h.url);
    const b = client(h.url);
    const got: string[] = [];
    const sub = b.subscribe('chat:1', (d) => got.push(d.text), { schema: Chat });
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    const err = await a.publish('chat:1', { text: 42 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid_data' });
    expect((err as Error).message).toMatch(/^data does not match the schema of "chat:1": text: /);
    await expect(a.publish('chat:1', { text: 'fine' })).resolves.toEqual({ delivered: 1, forwarded: 0 });
    await expect.poll(() => got).toEqual(['fine']);
    // Topics the patterns do not cover take anything.
    await expect(a.publish('other', 42)).resolves.toEqual({ delivered: 0, forwarded: 0 });
    expect(a.state).toBe('connected');
  });

  it('an exact name wins over a pattern; asynchronous schemas keep the order of publishes', async () => {
    const slowNumber = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: (v: unknown) =>
          new Promise<{ value: unknown } | { issues: { message: string }[] }>((r) =>
            setTimeout(() => r(typeof v === 'number' ? { value: v } : { issues: [{ message: 'not a number' }] }), 5),
          ),
      },
    };
    const h = await hub({ topicSchemas: { 'n:*': Chat, 'n:exact': slowNumber } });
    const a = client(h.url);
    const b = client(h.url);
    const got: unknown[] = [];
    const sub = b.subscribe('n:exact', (d) => got.push(d));
    await Promise.all([reach(a, 'connected'), subscribed(sub)]);
    const results = await Promise.allSettled([
      a.publish('n:exact', 1),
      a.publish('n:exact', 'x'),
      a.publish('n:exact', 3),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'invalid_data',
      message: expect.stringMatching(/not a number$/),
    });
    await expect.poll(() => got).toEqual([1, 3]);
  });

  it('refuses something that is not a Standard Schema at createHub', () => {
    expect(() => createHub({ logger: silentLogger, topicSchemas: { t: {} as never } })).toThrow(
      /not a Standard Schema/,
    );
  });
});
