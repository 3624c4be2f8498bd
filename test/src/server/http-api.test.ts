import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../../src/hub.js';
import { createHttpApi } from '../../../src/server/http-api.js';
import type { HubOptions } from '../../../src/types.js';
import { startRoutedHub, type RoutedHub } from '../../support/http-hub.js';
import { connectJson, type JsonClient } from '../../support/json-client.js';
import { connect, silentLogger, whenCount } from '../../support/ws-client.js';

const KEY = 'test-key-0123456789abcdef';
let h: RoutedHub | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const start = async (options: HubOptions = {}, api: { apiKey?: string; maxBodyBytes?: number } = {}) =>
  (h = await startRoutedHub(options, { api: { apiKey: KEY, ...api } }));

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(
  path: string,
  init: { method?: string; body?: string; key?: string | null; type?: string | null } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (init.key !== null) headers.authorization = `Bearer ${init.key ?? KEY}`;
  if (init.type !== null && init.body !== undefined) headers['content-type'] = init.type ?? 'application/json';
  const res = await fetch(`${h!.base}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers,
    body: init.body ?? null,
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
const post = (path: string, body: unknown, init: { key?: string | null; type?: string | null } = {}) =>
  call(path, { ...init, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Three JSON clients: a and b in "news", c in "sport". */
async function threeClients() {
  const a = await connectJson(h!.ws);
  const b = await connectJson(h!.ws);
  const c = await connectJson(h!.ws);
  await a.client.call({ type: 'subscribe', topic: 'news' });
  await b.client.call({ type: 'subscribe', topic: 'news' });
  await c.client.call({ type: 'subscribe', topic: 'sport' });
  return { a, b, c };
}

/** Messages (type "message") a client has received so far. */
const messagesOf = (c: JsonClient) => c.frames.filter((f) => f.type === 'message');

describe('HTTP API: delivery (JSON protocol)', () => {
  it('POST /api/publish with a topic reaches the members of that topic only, and answers their count', async () => {
    await start();
    const { a, b, c } = await threeClients();
    const answer = await post('/api/publish', { topic: 'news', data: { headline: 'hello' } });
    expect(answer).toMatchObject({ status: 200, body: { delivered: 2 } });
    expect(await a.client.next('message')).toEqual({ type: 'message', topic: 'news', data: { headline: 'hello' } });
    expect(await b.client.next('message')).toEqual({ type: 'message', topic: 'news', data: { headline: 'hello' } });
    // c is in another topic: a marker sent to it afterwards arrives first and alone.
    expect((await post('/api/publish', { topic: 'sport', data: 'marker' })).body).toEqual({ delivered: 1 });
    expect(await c.client.next('message')).toEqual({ type: 'message', topic: 'sport', data: 'marker' });
    expect(messagesOf(c.client)).toHaveLength(1);
  });

  it('except leaves one member out; the count excludes it', async () => {
    await start();
    const { a, b } = await threeClients();
    expect((await post('/api/publish', { topic: 'news', data: 1, except: a.id })).body).toEqual({ delivered: 1 });
    await b.client.next('message');
    expect((await post('/api/publish', { topic: 'news', data: 2 })).body).toEqual({ delivered: 2 });
    expect(await a.client.next('message')).toMatchObject({ data: 2 }); // the first one never came
  });

  it('without a topic it goes to every client (broadcast), except honoured', async () => {
    await start();
    const { a, b, c } = await threeClients();
    expect((await post('/api/publish', { data: 'all' })).body).toEqual({ delivered: 3 });
    for (const x of [a, b, c]) expect(await x.client.next('message')).toEqual({ type: 'message', data: 'all' });
    expect((await post('/api/publish', { data: 'not a', except: a.id })).body).toEqual({ delivered: 2 });
    await b.client.next('message');
    await c.client.next('message');
    expect((await post('/api/publish', { data: 'last' })).body).toEqual({ delivered: 3 });
    expect(await a.client.next('message')).toMatchObject({ data: 'last' });
  });

  it('a topic nobody is in delivers to 0', async () => {
    await start();
    await threeClients();
    expect((await post('/api/publish', { topic: 'empty', data: 1 })).body).toEqual({ delivered: 0 });
  });

  it('POST /api/send reaches that client only; an unknown id is 404 unknown_client', async () => {
    await start();
    const { a, b } = await threeClients();
    expect((await post('/api/send', { to: b.id, data: { dm: true } })).body).toEqual({ delivered: 1 });
    expect(await b.client.next('message')).toEqual({ type: 'message', data: { dm: true } });
    expect((await post('/api/send', { to: a.id, data: 'marker' })).body).toEqual({ delivered: 1 });
    expect(await a.client.next('message')).toMatchObject({ data: 'marker' });
    expect(messagesOf(a.client)).toHaveLength(1);
    const unknown = await post('/api/send', { to: 'nobody', data: 1 });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('unknown_client');
  });

  it('GET /api/stats counts clients and members per topic', async () => {
    await start();
    await threeClients();
    const stats = await call('/api/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.clients).toBe(3);
    expect(
      (stats.body.topics as { topic: string; members: number }[]).sort((x, y) => x.topic.localeCompare(y.topic)),
    ).toEqual([
      { topic: 'news', members: 2 },
      { topic: 'sport', members: 1 },
    ]);
  });
});

describe('HTTP API: relay protocol', () => {
  it('data goes out as the raw message: strings as they are, other values as JSON text', async () => {
    await start({ protocol: 'relay' });
    const x = await connect(h!.ws);
    const y = await connect(h!.ws);
    await whenCount(h!.hub, (n) => n === 2);
    expect((await post('/api/publish', { data: 'plain text' })).body).toEqual({ delivered: 2 });
    expect((await post('/api/publish', { data: { n: 1 }, except: h!.hub.clients()[0]!.id })).body).toEqual({
      delivered: 1,
    });
    await x.received(1);
    await y.received(1);
    const all = [...x.texts, ...y.texts];
    expect(all.filter((t) => t === 'plain text')).toHaveLength(2);
    await Promise.race([x.received(2), y.received(2)]);
    expect([...x.texts, ...y.texts].filter((t) => t === '{"n":1}')).toHaveLength(1);
    const id = h!.hub.clients()[1]!.id;
    expect((await post('/api/send', { to: id, data: 'direct' })).body).toEqual({ delivered: 1 });
  });
});

describe('HTTP API: refusals, each with its status and a stable error code', () => {
  it('401 without a key or with a wrong one (same-length or not), with WWW-Authenticate', async () => {
    await start();
    for (const key of [null, 'wrong', KEY.replace(/.$/, 'X'), `${KEY}x`]) {
      const r = await post('/api/publish', { data: 1 }, { key });
      expect(r.status, String(key)).toBe(401);
      expect(r.body.error).toBe('unauthorized');
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expect((await call('/api/stats', { key: null })).status).toBe(401);
    // The right key, any case of "Bearer", works.
    const res = await fetch(`${h!.base}/api/stats`, { headers: { authorization: `bearer ${KEY}` } });
    expect(res.status).toBe(200);
  });

  it('404 api_disabled on every API route when no key is configured', async () => {
    h = await startRoutedHub();
    for (const path of ['/api/publish', '/api/send', '/api/stats']) {
      const r = await post(path, { data: 1 });
      expect(r.status).toBe(404);
      expect(r.body.error).toBe('api_disabled');
    }
  });

  it('404 not_found for an unknown API route; 405 with Allow for a wrong method', async () => {
    await start();
    expect((await post('/api/nope', { data: 1 })).body.error).toBe('not_found');
    const get = await call('/api/publish');
    expect(get.status).toBe(405);
    expect(get.body.error).toBe('method_not_allowed');
    expect(get.headers.get('allow')).toBe('POST');
    const postStats = await post('/api/stats', {});
    expect(postStats.status).toBe(405);
    expect(postStats.headers.get('allow')).toBe('GET, HEAD');
  });

  it('415 for a body that is not declared JSON', async () => {
    await start();
    for (const type of [null, 'text/plain', 'application/x-www-form-urlencoded']) {
      const r = await post('/api/publish', { data: 1 }, { type });
      expect(r.status, String(type)).toBe(415);
      expect(r.body.error).toBe('unsupported_media_type');
    }
    expect((await post('/api/publish', { data: 1 }, { type: 'application/json; charset=utf-8' })).status).toBe(200);
  });

  it('400 invalid_json for bad JSON; 400 invalid_body naming the field for a bad shape', async () => {
    await start();
    const badJson = await post('/api/publish', '{"data": ');
    expect(badJson).toMatchObject({ status: 400, body: { error: 'invalid_json' } });
    const cases: [string, unknown, RegExp][] = [
      ['/api/publish', {}, /data/],
      ['/api/publish', { data: 1, topic: 5 }, /topic: expected string/],
      ['/api/publish', { data: 1, topic: 'has space' }, /topic/],
      ['/api/publish', { data: 1, topic: 'x'.repeat(129) }, /topic/],
      ['/api/publish', { data: 1, except: '' }, /except/],
      ['/api/publish', { data: 1, topics: 'news' }, /topics/],
      ['/api/publish', [1, 2], /expected object/i],
      ['/api/send', { data: 1 }, /to/],
      ['/api/send', { to: 'a' }, /data/],
    ];
    for (const [path, body, reason] of cases) {
      const r = await post(path, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toBe('invalid_body');
      expect(r.body.message).toMatch(reason);
    }
  });

  it('413 over the body limit: by Content-Length, and for a chunked body as soon as it passes the limit', async () => {
    await start({}, { maxBodyBytes: 1024 });
    const fits = JSON.stringify({ data: 'x'.repeat(1024 - 11) });
    expect(Buffer.byteLength(fits)).toBe(1024);
    expect((await post('/api/publish', fits)).status).toBe(200);
    const over = await post('/api/publish', { data: 'x'.repeat(1024 - 10) });
    expect(over).toMatchObject({ status: 413, body: { error: 'payload_too_large' } });

    // Chunked, no Content-Length: the answer comes while the body is still being sent.
    const url = new URL(`${h!.base}/api/publish`);
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      });
      req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
      req.on('error', reject);
      req.write(`{"data":"${'y'.repeat(2048)}`); // never finished
    });
    expect(status).toBe(413);
  });

  it('503 shutting_down once the hub is closing', async () => {
    await start();
    const c = await connect(h!.ws);
    await whenCount(h!.hub, (n) => n === 1);
    const closing = h!.hub.close({ timeoutMs: 200 });
    const r = await post('/api/publish', { data: 1 });
    expect(r).toMatchObject({ status: 503, body: { error: 'shutting_down' } });
    await closing;
    await c.closed;
  });
});

describe('createHttpApi for embedders', () => {
  it('answers under its prefix and returns false for other paths, so the app can answer them', async () => {
    const hub = createHub({ logger: silentLogger });
    const api = createHttpApi(hub, { apiKey: KEY, prefix: '/hub-api' });
    const server = http.createServer((req, res) => {
      if (!api(req, res)) res.writeHead(418).end();
    });
    hub.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const stats = await fetch(`${base}/hub-api/stats`, { headers: { authorization: `Bearer ${KEY}` } });
      expect(stats.status).toBe(200);
      expect(await stats.json()).toEqual({ clients: 0, topics: [] });
      expect((await fetch(`${base}/api/stats`)).status).toBe(418);
    } finally {
      await hub.close({ timeoutMs: 100 });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
