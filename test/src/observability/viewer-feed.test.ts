import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../../src/hub.js';
import { hubRoutes } from '../../../src/server/http-routes.js';
import { createViewer, type ViewerOptions } from '../../../src/observability/viewer/viewer.js';
import { connect, silentLogger, whenCount, type TestClient } from '../../support/ws-client.js';

/**
 * The viewer's feed (GET /inspect/events, server-sent events) as the page reads it, without a
 * browser: a late page sees the present, the server aggregates (counts, sampled events), detail
 * only for a followed client, a bounded number of pages. Real hub, real sockets, real HTTP.
 * The page itself is tested in Chromium by test/services/viewer.test.ts.
 */

interface FeedEvent {
  readonly kind: string;
  readonly body: Record<string, unknown>;
}

interface Tick {
  counts: Record<string, number>;
  events: { actor: string; type: string }[];
  more: Record<string, number>;
  follow?: { id: string; events: { type: string; event: { code?: number; reason?: string }; value: unknown }[] };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanups.splice(0).reverse()) await f();
});

async function serve(options: ViewerOptions = {}) {
  const viewer = createViewer({ tickMs: 25, ...options });
  const hub: Hub = createHub({ logger: silentLogger, inspect: viewer });
  const server = http.createServer(hubRoutes(hub, { viewer }));
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanups.push(async () => {
    await hub.close({ timeoutMs: 200 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const client = async (): Promise<TestClient & { id: string }> => {
    const c = await connect(`ws://127.0.0.1:${port}${hub.options.path}`);
    cleanups.push(() => c.ws.terminate());
    await c.received(1);
    const welcome = JSON.parse(c.texts[0]!) as { id: string };
    return Object.assign(c, { id: welcome.id });
  };
  return { hub, viewer, client, feedUrl: `http://127.0.0.1:${port}/inspect/events` };
}

/** A page on the feed: every event parsed, and a way to wait for one that matches. */
function openFeed(url: string): Promise<{
  status: number;
  next(kind: string, match?: (body: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      const seen: FeedEvent[] = [];
      const waiters: { kind: string; match: (b: Record<string, unknown>) => boolean; resolve: (b: never) => void }[] =
        [];
      let buffer = '';
      const settle = (e: FeedEvent): boolean => {
        const w = waiters.find((x) => x.kind === e.kind && x.match(e.body));
        if (!w) return false;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(e.body as never);
        return true;
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const kind = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (kind && data) {
            const e = { kind, body: JSON.parse(data) as Record<string, unknown> };
            if (!settle(e)) seen.push(e);
          }
        }
      });
      cleanups.push(() => req.destroy());
      resolve({
        status: res.statusCode ?? 0,
        next(kind, match = () => true) {
          const i = seen.findIndex((e) => e.kind === kind && match(e.body));
          if (i !== -1) return Promise.resolve(seen.splice(0, i + 1).at(-1)!.body);
          return new Promise((r) => waiters.push({ kind, match, resolve: r }));
        },
      });
    });
    req.once('error', reject);
  });
}

describe('the viewer feed (GET /inspect/events)', () => {
  it('a page that opens late gets the present, then counts that follow clients connecting and leaving', async () => {
    const { hub, client, feedUrl } = await serve();
    await client();
    const bob = await client();
    await whenCount(hub, (n) => n === 2);

    const feed = await openFeed(feedUrl);
    expect(feed.status).toBe(200);
    const init = (await feed.next('init')) as {
      definitions: { hub: { states: { path: string }[] }; client: { states: { path: string }[] } };
      hub: { value: unknown; clients: number };
      counts: Record<string, number>;
      events?: unknown;
    };
    // The definitions of both machines, the hub's snapshot and the counts: no replay of old events.
    expect(JSON.stringify(init.definitions.hub)).toContain('draining');
    expect(JSON.stringify(init.definitions.client)).toContain('closing');
    expect(init.hub).toMatchObject({ value: 'running', clients: 2 });
    expect(init.counts).toEqual({ open: 2 });
    expect(init.events).toBeUndefined();

    await client();
    const up = (await feed.next('tick', (b) => (b as unknown as Tick).counts.open === 3)) as unknown as Tick;
    expect(up.counts).toEqual({ open: 3 });
    bob.ws.close();
    await feed.next('tick', (b) => (b as unknown as Tick).counts.open === 2);
  });

  it('clients that came and went with no page open are not counted by a page that opens later', async () => {
    const { hub, client, feedUrl } = await serve();
    const stays = await client();
    for (let i = 0; i < 5; i++) {
      const c = await client();
      c.ws.close();
      await c.closed;
    }
    await whenCount(hub, (n) => n === 1);
    const feed = await openFeed(feedUrl);
    const init = (await feed.next('init')) as { hub: { clients: number }; counts: Record<string, number> };
    // The viewer's own registry (from inspection events) agrees with the hub's public count.
    expect(init.counts).toEqual({ open: hub.size });
    expect(init.hub.clients).toBe(hub.size);
    expect(stays.id).toBeTruthy();
  });

  it('samples events: at most eventsPerTick listed, the rest counted by type', async () => {
    const { hub, client, feedUrl } = await serve({ eventsPerTick: 3, tickMs: 200 });
    const ann = await client();
    const feed = await openFeed(feedUrl);
    await feed.next('init');
    // 50 hub events in one synchronous burst: all within one tick.
    for (let i = 0; i < 50; i++) hub.actor.send({ type: 'hub.subscribe', id: ann.id, topic: `t${i % 3}` });
    const tick = (await feed.next(
      'tick',
      (b) => ((b as unknown as Tick).more['hub.subscribe'] ?? 0) > 0,
    )) as unknown as Tick;
    expect(tick.events).toHaveLength(3);
    const listed = tick.events.filter((e) => e.type === 'hub.subscribe').length;
    expect(listed + tick.more['hub.subscribe']!).toBe(50);
  });

  it('a followed client gets its own detail: its close with code and reason, then its end', async () => {
    const { hub, client, feedUrl } = await serve();
    const ann = await client();
    const bob = await client();
    const feed = await openFeed(`${feedUrl}?follow=${encodeURIComponent(bob.id)}`);
    const init = (await feed.next('init')) as { follow: { id: string; connected: boolean; value: unknown } };
    expect(init.follow).toMatchObject({ id: bob.id, connected: true, value: 'open' });
    hub.disconnect(bob.id, 4000, 'kicked');
    const seen: Tick['follow'][] = [];
    await feed.next('tick', (b) => {
      const f = (b as unknown as Tick).follow;
      seen.push(f);
      return f?.events.some((e) => e.type === 'client.socketClosed') ?? false;
    });
    const events = seen.flatMap((f) => f?.events ?? []);
    expect(events.find((e) => e.type === 'client.close')).toMatchObject({
      event: { code: 4000, reason: 'kicked' },
      value: 'closing',
    });
    expect(events.find((e) => e.type === 'client.socketClosed')).toMatchObject({ value: 'closed' });
    // Nothing of another client's in the followed detail.
    expect(seen.every((f) => f?.id === bob.id)).toBe(true);
    expect(ann.id).not.toBe(bob.id);
  });

  it('refuses a page beyond maxPages with 503', async () => {
    const { feedUrl } = await serve({ maxPages: 1 });
    const first = await openFeed(feedUrl);
    expect(first.status).toBe(200);
    await first.next('init');
    const second = await new Promise<http.IncomingMessage>((resolve) => http.get(feedUrl, resolve));
    expect(second.statusCode).toBe(503);
    second.resume();
  });
});
