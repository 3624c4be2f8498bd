import { SignJWT } from 'jose';
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBus, memoryBroker, type MemoryBus } from '../../../src/cluster/broker/memory.js';
import { CLIENT_META_MAX_BYTES, CLIENT_META_MAX_DEPTH } from '../../../src/limits.js';
import { jwtAuth } from '../../../src/admission/jwt-auth.js';
import type { HubOptions } from '../../../src/types.js';
import { connectJson } from '../../support/json-client.js';
import { startHub, upgradeStatus, type Harness } from '../../support/ws-client.js';

/**
 * docs/reliability.md item 15: one client whose presence metadata its peers cannot decode (too deep, too large) hid
 * its whole node: its `c+`/`j` and every `sync` holding it were dropped as malformed, so the other
 * nodes listed none of that node's clients and asked it for a sync every heartbeat. Both ends are
 * closed: such metadata is refused where the client is admitted, and a sync skips one bad entry.
 */

let nodes: Harness[] = [];
afterEach(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  nodes = [];
});

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));
const metaOf = (url: string | undefined): unknown => {
  const q = new URL(url ?? '/', 'http://h').searchParams;
  if (q.get('deep')) return nested(Number(q.get('deep')));
  if (q.get('big')) return { s: 'x'.repeat(Number(q.get('big'))) };
  return { name: q.get('name') ?? 'anon' };
};

async function node(bus: MemoryBus, nodeId: string, extra: HubOptions = {}): Promise<Harness> {
  const h = await startHub({
    protocol: 'json',
    authenticate: (req) => ({ meta: metaOf(req.url) }),
    ...extra,
    cluster: { broker: memoryBroker(bus), nodeId, heartbeatMs: 20, nodeTimeoutMs: 10_000, ...extra.cluster },
  });
  nodes.push(h);
  return h;
}

/** Resolves when the node's presence of `room` is exactly `ids` (hub events, not sleeps). */
const whenPresence = (h: Harness, ids: string[]) =>
  new Promise<void>((resolve) => {
    const ok = () => JSON.stringify(h.hub.members('room').sort()) === JSON.stringify([...ids].sort());
    if (ok()) return resolve();
    const sub = h.hub.actor.subscribe(() => ok() && (sub.unsubscribe(), resolve()));
  });

async function member(h: Harness, query: string) {
  const joined = await connectJson(`${h.url}?${query}`);
  expect(await joined.client.call({ type: 'subscribe', topic: 'room' })).toMatchObject({ type: 'ack' });
  return joined;
}

/** The answer body of a refused upgrade. */
const refusal = (url: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
    });
    ws.once('open', () => (ws.close(), reject(new Error('upgraded'))));
    ws.once('error', reject);
  });

describe('client metadata every node can carry', () => {
  it('authenticate() metadata too deep or too large is refused at the upgrade; the node stays visible', async () => {
    const bus = createMemoryBus();
    const [a, b] = [await node(bus, 'A'), await node(bus, 'B')];
    expect(await upgradeStatus(`${a.url}?deep=${CLIENT_META_MAX_DEPTH + 1}`)).toBe(500);
    expect(await upgradeStatus(`${a.url}?deep=20000`)).toBe(500);
    expect(await upgradeStatus(`${a.url}?big=${CLIENT_META_MAX_BYTES}`)).toBe(500);
    expect(a.hub.size).toBe(0);
    // At the bounds: admitted, and listed by the other node with its metadata.
    const edge = await member(a, `deep=${CLIENT_META_MAX_DEPTH}`);
    const large = await member(a, `big=${CLIENT_META_MAX_BYTES - 100}`);
    const b1 = await member(b, 'name=b1');
    await whenPresence(b, [edge.id, large.id, b1.id]);
    expect(await b1.client.call({ type: 'presence', topic: 'room' })).toMatchObject({ type: 'ack' });
    expect(b.hub.clusterStats()!.malformed).toBe(0);
  });

  it('a JWT whose meta claim is too deep or too large is refused with 401, saying why', async () => {
    const bus = createMemoryBus();
    const a = await node(bus, 'A', { authenticate: jwtAuth({ secret: SECRET, from: ['query'] }) });
    const token = (meta: unknown) =>
      new SignJWT({ sub: 'u1', meta }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(SECRET));
    expect(await refusal(`${a.url}?token=${await token(nested(CLIENT_META_MAX_DEPTH + 1))}`)).toEqual({
      status: 401,
      body: `invalid token: meta nested deeper than ${CLIENT_META_MAX_DEPTH}`,
    });
    expect(await upgradeStatus(`${a.url}?token=${await token({ name: 'ok' })}`)).toBe(101);
    // A token this large does not fit in an HTTP header (Node's 16 KiB): its verdict, as `refresh` gets it.
    const auth = jwtAuth({ secret: SECRET });
    expect(await auth.verify(await token({ s: 'x'.repeat(CLIENT_META_MAX_BYTES) }))).toEqual({
      error: `invalid token: meta larger than ${CLIENT_META_MAX_BYTES} bytes of JSON`,
      status: 401,
    });
  });

  it('a sync skips (and counts) one entry a node cannot decode and applies the rest of the state', async () => {
    const bus = createMemoryBus();
    // B decodes less depth than A admits: A's deep client is an entry B must skip.
    const a = await node(bus, 'A');
    const b = await node(bus, 'B', { cluster: { broker: memoryBroker(bus), nodeId: 'B', maxEnvelopeDepth: 4 } });
    const deep = await member(a, 'deep=6');
    const a2 = await member(a, 'name=a2');
    const b1 = await member(b, 'name=b1');
    // Before: B dropped every sync of A (it held the deep entry) and never listed a2.
    await whenPresence(b, [a2.id, b1.id]);
    await whenPresence(a, [deep.id, a2.id, b1.id]);
    expect(b.hub.clusterStats()!.malformed).toBeGreaterThan(0);
    // A send to A's other client crosses; the skipped one is unknown on B, not half-known.
    expect(await b1.client.call({ type: 'send', to: a2.id, data: 'hi' })).toMatchObject({
      result: { delivered: 0, forwarded: 1 },
    });
    expect(await a2.client.next('message')).toMatchObject({ data: 'hi' });
    expect(await b1.client.call({ type: 'send', to: deep.id, data: 'x' })).toMatchObject({ code: 'unknown_client' });

    // Converged: B has applied A's version, so A's heartbeats no longer make B ask for a sync.
    const asked = b.hub.clusterStats()!.syncRequests;
    const watcher = memoryBroker(bus);
    watcher.subscribe('actorhub:presence');
    await new Promise<void>((resolve) => {
      let heartbeats = 0;
      watcher.onMessage((_channel, payload) => {
        const e = JSON.parse(payload) as { k: string; n: string };
        if (e.k === 'hb' && e.n === 'A' && ++heartbeats === 5) resolve();
      });
    });
    await watcher.close();
    expect(b.hub.clusterStats()!.syncRequests).toBe(asked);
  });
});
