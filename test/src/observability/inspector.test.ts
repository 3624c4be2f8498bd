import { createServer } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { HubServerError } from '../../../src/errors.js';
import { startInspector } from '../../../src/observability/inspector/inspector.js';
import { sanitizeContext, sanitizeEvent } from '../../../src/observability/inspector/sanitize.js';
import { connectJson } from '../../support/json-client.js';
import { silentLogger, startHub, whenCount } from '../../support/ws-client.js';

interface Seen {
  type: string;
  sessionId: string;
  name?: string;
  parentId?: string;
  event?: { type: string; [key: string]: unknown };
  snapshot?: { status?: string; value?: unknown; context?: Record<string, unknown> };
}

/** A viewer on the relay, as the bridge page is: every message it relays, parsed, plus a way to await one. */
async function viewer(port: number) {
  const ws = new WebSocket(`ws://localhost:${port}`);
  const raw: string[] = [];
  const seen: Seen[] = [];
  const waiting = new Set<{ match: (s: Seen) => boolean; resolve: (s: Seen) => void }>();
  ws.on('message', (data) => {
    const text = data.toString();
    raw.push(text);
    const s = JSON.parse(text) as Seen;
    seen.push(s);
    for (const w of waiting) {
      if (!w.match(s)) continue;
      waiting.delete(w);
      w.resolve(s);
    }
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  onTestFinished(() => ws.close());
  return {
    raw,
    seen,
    until: (match: (s: Seen) => boolean): Promise<Seen> =>
      new Promise((resolve) => {
        const hit = seen.find(match);
        if (hit) resolve(hit);
        else waiting.add({ match, resolve });
      }),
  };
}

const listening = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(true));
    probe.listen(port, () => probe.close(() => resolve(false)));
  });

describe('the Stately inspector', () => {
  it('relays the hub and its clients live, with payloads stripped, and closes with the hub', async () => {
    const inspector = await startInspector({ port: 0, logger: silentLogger });
    expect(inspector.port).toBeGreaterThan(0);
    expect(inspector.url).toBe(`http://localhost:${inspector.port}`);
    const view = await viewer(inspector.port);
    const h = await startHub({ inspect: inspector });
    onTestFinished(() => h.stop());

    const hubActor = await view.until((s) => s.type === '@xstate.actor' && s.name === 'hub');
    expect(hubActor.parentId).toBeUndefined();

    const ann = await connectJson(h.url);
    const bob = await connectJson(h.url);
    await whenCount(h.hub, (n) => n === 2);
    await ann.client.call({ type: 'subscribe', topic: 'room' });
    await bob.client.call({ type: 'publish', topic: 'room', data: { text: 'TOP-SECRET-42' } });
    await ann.client.next('message');

    // Each client is an actor under the hub, drawn from the client machine's definition.
    const annActor = await view.until((s) => s.type === '@xstate.actor' && s.name === ann.id);
    expect(annActor.parentId).toBe(hubActor.sessionId);
    const definition = JSON.parse((annActor as Seen & { definition: string }).definition) as {
      id: string;
      states: object;
    };
    expect(definition.id).toBe('client');
    expect(Object.keys(definition.states)).toEqual(['open', 'closing', 'closed']);
    expect((annActor as Seen & { _version: string })._version).toMatch(/^\d+\.\d+\.\d+/);

    // Events: what bob's socket said (the bytes counted, not shown) and what the hub did with it.
    const bobActor = await view.until((s) => s.type === '@xstate.actor' && s.name === bob.id);
    const said = await view.until(
      (s) =>
        s.type === '@xstate.event' && s.event?.type === 'client.socketMessage' && s.sessionId === bobActor.sessionId,
    );
    expect(said.event?.data).toMatch(/^‹\d+ bytes›$/);
    const publish = await view.until((s) => s.type === '@xstate.event' && s.event?.type === 'hub.publish');
    expect(publish.sessionId).toBe(hubActor.sessionId);
    expect(publish.event).toMatchObject({ topic: 'room', from: bob.id, data: '‹stripped›' });

    // Snapshots: the hub's is a handful of counters and ids, whatever the number of clients.
    const snap = await view.until(
      (s) => s.type === '@xstate.snapshot' && s.sessionId === hubActor.sessionId && s.snapshot?.context?.topics === 1,
    );
    expect(snap.snapshot).toEqual({
      status: 'active',
      value: 'running',
      context: { clients: 2, topics: 1, remoteClients: 0, maxClients: 100_000, clientIds: [ann.id, bob.id] },
    });
    const annSnap = await view.until((s) => s.type === '@xstate.snapshot' && s.sessionId === annActor.sessionId);
    expect(annSnap.snapshot?.context).toMatchObject({ id: ann.id, badFrameCount: 0, policy: 'close' });

    expect(view.raw.join('\n')).not.toContain('TOP-SECRET-42');
    // The per-recipient hot path stays out of the inspector.
    expect(view.seen.some((s) => s.event?.type === 'writer.deliver')).toBe(false);
    expect(inspector.stats.sent).toBeGreaterThan(0);

    await h.hub.close();
    expect(await listening(inspector.port)).toBe(false);
  });

  it('refuses a port in use with a HubServerError, not an uncaught exception', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    onTestFinished(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as { port: number }).port;
    const error = await startInspector({ port, logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HubServerError);
    expect(error).toMatchObject({ reason: 'inspector-failed' });
    expect((error as Error).message).toContain(`port ${port}`);
    expect((error as Error).message).toContain('--inspect-port');
  });

  it('strips payloads and live objects from events and contexts', () => {
    expect(sanitizeEvent({ type: 'client.socketMessage', data: Buffer.from('hello'), binary: false })).toEqual({
      type: 'client.socketMessage',
      data: '‹5 bytes›',
      binary: false,
    });
    expect(sanitizeEvent({ type: 'hub.register', id: 'a', meta: { token: 'x' }, connection: {} })).toEqual({
      type: 'hub.register',
      id: 'a',
      meta: '‹stripped›',
      connection: '‹connection›',
    });
    const plain = { type: 'hub.unregister', id: 'a' };
    expect(sanitizeEvent(plain)).toBe(plain);
    const hub = {
      clients: new Map([
        ['a', {}],
        ['b', {}],
        ['c', {}],
      ]),
      count: 3,
      topicCount: 0,
      maxClients: 9,
      frames: {},
    };
    expect(sanitizeContext(hub, 2)).toEqual({
      clients: 3,
      topics: 0,
      remoteClients: 0,
      maxClients: 9,
      clientIds: ['a', 'b'],
      moreClients: 1,
    });
    // Idempotent: the library may sanitize a context it already got sanitized, after a JSON round trip.
    const once = sanitizeContext(hub, 2)!;
    expect(sanitizeContext(JSON.parse(JSON.stringify(once)), 2)).toEqual(once);
    expect(sanitizeContext({ nested: { secret: 1 }, n: 1 }, 2)).toEqual({ n: 1 });
  });
});
