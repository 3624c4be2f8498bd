import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { HubOptions } from '../../../src/types.js';
import { dataProblem } from '../../../src/server/http-api.js';
import { isHostAllowed } from '../../../src/admission/origin.js';
import { startRoutedHub, type RoutedHub } from '../../support/http-hub.js';
import { connectJson } from '../../support/json-client.js';
import { whenCount } from '../../support/ws-client.js';

/** docs/security.md, threat model: the HTTP API's deep or non-finite data, and DNS rebinding through the Host header. */

const KEY = 'test-key-0123456789abcdef';
let h: RoutedHub | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const start = async (options: HubOptions = {}) => (h = await startRoutedHub(options, { api: { apiKey: KEY } }));

/** A raw HTTP request (fetch cannot set Host): the status, the body, and for an upgrade 101. */
function request(
  path: string,
  init: { method?: string; body?: string; host?: string; origin?: string; upgrade?: boolean } = {},
): Promise<{ status: number; body: string }> {
  const url = new URL(h!.base);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { host: init.host ?? url.host, authorization: `Bearer ${KEY}` };
    if (init.origin !== undefined) headers.origin = init.origin;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    if (init.upgrade) {
      Object.assign(headers, {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': randomBytes(16).toString('base64'),
        'sec-websocket-version': '13',
      });
    }
    const req = http.request({ host: url.hostname, port: url.port, path, method: init.method ?? 'GET', headers });
    req.once('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, body: '' });
    });
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => (body += s));
      res.once('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.once('error', reject);
    req.end(init.body);
  });
}

const nested = (depth: number): string => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

describe('POST /api/publish and /api/send: data the hub cannot send on as it came', () => {
  it('data nested 20,000 deep → 400 invalid_body naming the limit (was 500 internal); 128 deep is delivered', async () => {
    await start();
    const { client } = await connectJson(h!.ws);
    await client.call({ type: 'subscribe', topic: 'news' });
    const deep = await request('/api/publish', { method: 'POST', body: `{"topic":"news","data":${nested(20_000)}}` });
    expect(deep.status).toBe(400);
    expect(JSON.parse(deep.body)).toEqual({ error: 'invalid_body', message: 'data: nested deeper than 128 levels' });
    const send = await request('/api/send', { method: 'POST', body: `{"to":"x","data":${nested(129)}}` });
    expect(send.status).toBe(400);
    const ok = await request('/api/publish', { method: 'POST', body: `{"topic":"news","data":${nested(128)}}` });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ delivered: 1 });
    await client.next('message');
  });

  it('1e999 (Infinity once parsed) → 400, never delivered as null', async () => {
    await start();
    const { client } = await connectJson(h!.ws);
    await client.call({ type: 'subscribe', topic: 'news' });
    for (const data of ['1e999', '[1, {"x": -1e999}]']) {
      const r = await request('/api/publish', { method: 'POST', body: `{"topic":"news","data":${data}}` });
      expect(r.status, data).toBe(400);
      expect(JSON.parse(r.body)).toEqual({
        error: 'invalid_body',
        message: 'data: a number too large for JSON (beyond ±1.8e308, such as 1e999) cannot be delivered',
      });
    }
    // Nothing reached the member: the next message it gets is this one.
    const r = await request('/api/publish', { method: 'POST', body: '{"topic":"news","data":1.5e308}' });
    expect(r.status).toBe(200);
    expect((await client.next('message')).data).toBe(1.5e308);
  });

  it('over WebSocket: publish and send of 1e999 → error invalid_data with the ref, reaching no one (was null)', async () => {
    await start();
    const member = await connectJson(h!.ws);
    await member.client.call({ type: 'subscribe', topic: 'news' });
    const { client: sender } = await connectJson(h!.ws);
    const expected = {
      type: 'error',
      code: 'invalid_data',
      message: 'data: a number too large for JSON (beyond ±1.8e308, such as 1e999) cannot be delivered',
    };
    // Raw text: JSON.stringify cannot write 1e999, a peer's bytes can.
    for (const [ref, frame] of [
      ['p1', '{"type":"publish","topic":"news","data":1e999,"ref":"p1"}'],
      ['p2', '{"type":"publish","topic":"news","data":{"a":[1,-1E+999]},"ref":"p2"}'],
      ['p3', `{"type":"publish","topic":"news","data":${'9'.repeat(400)},"ref":"p3"}`],
      ['s1', `{"type":"send","to":"${member.id}","data":[1e999],"ref":"s1"}`],
    ] as const) {
      sender.send(frame);
      // Its answer, whatever it is (an ack on the previous main): a clear failure, not a timeout.
      let answer: unknown;
      for (let i = 0; answer === undefined; i++) {
        await sender.raw.received(i + 1);
        const f = JSON.parse(sender.raw.messages[i]!.data.toString()) as { ref?: unknown };
        if (f.ref === ref) answer = f;
      }
      expect(answer).toEqual({ ...expected, ref });
    }
    // Not a bad frame: the connection stays open and a finite neighbour (and a string that merely looks like one) goes through.
    expect(await sender.call({ type: 'publish', topic: 'news', data: { n: 1.5e308, s: '1e999' } })).toMatchObject({
      type: 'ack',
    });
    expect((await member.client.next('message')).data).toEqual({ n: 1.5e308, s: '1e999' });
    expect(member.client.frames.filter((f) => f.type === 'message')).toHaveLength(1);
  });

  it('dataProblem walks iteratively (no stack overflow at any depth)', () => {
    let v: unknown = 1;
    for (let i = 0; i < 200_000; i++) v = [v];
    expect(dataProblem(v, 128)).toBe('nested deeper than 128 levels');
    expect(dataProblem({ a: [1, 'x', null, { b: true }] }, 3)).toBeUndefined();
    expect(dataProblem({ a: [{ b: {} }] }, 3)).toBe('nested deeper than 3 levels');
  });
});

describe('maxSubscriptions: a memory bound for the whole hub', () => {
  it('over real sockets: past the hub-wide count a subscribe gets too_many_topics; a client that leaves frees its share', async () => {
    await start({ topics: { maxSubscriptions: 3 } });
    const one = await connectJson(h!.ws);
    const two = await connectJson(h!.ws);
    expect(await one.client.call({ type: 'subscribe', topic: 'a' })).toMatchObject({ type: 'ack' });
    expect(await one.client.call({ type: 'subscribe', topic: 'b' })).toMatchObject({ type: 'ack' });
    expect(await two.client.call({ type: 'subscribe', topic: 'a' })).toMatchObject({ type: 'ack' });
    expect(await two.client.call({ type: 'subscribe', topic: 'c' })).toMatchObject({
      type: 'error',
      code: 'too_many_topics',
      message: 'the hub holds its maximum of 3 subscriptions',
    });
    one.client.raw.ws.close();
    await whenCount(h!.hub, (n) => n === 1);
    expect(await two.client.call({ type: 'subscribe', topic: 'c' })).toMatchObject({ type: 'ack' });
  });
});

describe('allowedHosts: DNS rebinding', () => {
  it('without it, same-origin lets in any Host equal to the Origin (the rebinding pattern, documented)', async () => {
    await start();
    const r = await request('/ws', { upgrade: true, host: 'evil.example', origin: 'http://evil.example' });
    expect(r.status).toBe(101);
  });

  it('with it, a foreign Host is refused 403 on upgrade and on every HTTP route; listed names, subdomains, IPs and localhost pass', async () => {
    await start({ allowedHosts: ['hub.example.com', '.apps.example.org'] });
    const evil = { host: 'evil.example', origin: 'http://evil.example' };
    expect((await request('/ws', { upgrade: true, ...evil })).status).toBe(403);
    for (const path of ['/stats', '/healthz', '/metrics', '/', '/api/stats'])
      expect((await request(path, { host: 'evil.example' })).status, path).toBe(403);
    const ok = [
      { host: 'hub.example.com', origin: 'https://hub.example.com' },
      { host: 'a.apps.example.org:8443', origin: 'https://a.apps.example.org:8443' },
      { host: 'apps.example.org' },
      { host: h!.base.slice('http://'.length) }, // 127.0.0.1:port
      { host: 'localhost:9', origin: 'http://localhost:9' },
    ];
    for (const o of ok) expect((await request('/ws', { upgrade: true, ...o })).status, o.host).toBe(101);
    expect((await request('/healthz', { host: 'hub.example.com' })).status).toBe(200);
  });

  it('isHostAllowed', () => {
    expect(isHostAllowed(undefined, 'anything')).toBe(true);
    expect(isHostAllowed(['a.example'], undefined)).toBe(false);
    expect(isHostAllowed(['a.example'], 'A.Example:80')).toBe(true);
    expect(isHostAllowed(['a.example'], 'b.a.example')).toBe(false);
    expect(isHostAllowed(['.a.example'], 'b.a.example')).toBe(true);
    expect(isHostAllowed(['.a.example'], 'ba.example')).toBe(false);
    expect(isHostAllowed(['a.example'], '[::1]:8080')).toBe(true);
    expect(isHostAllowed(['a.example'], 'a.example.evil.com')).toBe(false);
    expect(isHostAllowed(['a.example'], 'bad host')).toBe(false);
  });
});
