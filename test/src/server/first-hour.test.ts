import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub } from '../../../src/hub.js';
import { invalidOrigin } from '../../../src/admission/origin.js';
import { parseCliArgs, readServerConfig } from '../../../src/server/config.js';
import { Effect } from 'effect';
import { startRoutedHub, type RoutedHub } from '../../support/http-hub.js';
import { connectJson } from '../../support/json-client.js';

/** What a new user meets in the first hour: answers that say what to do instead. */

let h: RoutedHub | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

/** A raw upgrade request: the status line and the body of the refusal. */
const upgrade = (url: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    const req = http.request(url, {
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-version': '13',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      },
    });
    req.on('upgrade', (res, socket) => (socket.destroy(), resolve({ status: res.statusCode!, body: '' })));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });

describe('the first hour', () => {
  it('an upgrade on the wrong path is told which path upgrades', async () => {
    h = await startRoutedHub({ path: '/live' });
    const port = new URL(h.base).port;
    expect(await upgrade(`http://127.0.0.1:${port}/ws`)).toEqual({
      status: 404,
      body: 'not found: WebSocket upgrades are served on /live only\n',
    });
    expect((await upgrade(`http://127.0.0.1:${port}/live`)).status).toBe(101);
  });

  it('a plain GET of the WebSocket path answers 426 Upgrade Required, saying what the endpoint is', async () => {
    h = await startRoutedHub();
    const res = await fetch(`${h.base}/ws`);
    expect(res.status).toBe(426);
    expect(res.headers.get('upgrade')).toBe('websocket');
    expect(await res.json()).toEqual({
      error: 'upgrade_required',
      message: '/ws is a WebSocket endpoint: connect with a WebSocket client (ws://, or wss:// over TLS)',
    });
    // Other paths are still plain 404s.
    expect((await fetch(`${h.base}/wss`)).status).toBe(404);
  });

  it('GET /stats gives messages/s from the hub: every reader in one window sees the same figures', async () => {
    h = await startRoutedHub();
    const stats = async () =>
      (await (await fetch(`${h!.base}/stats`)).json()) as { messagesInPerSec: number; messagesOutPerSec: number };
    const a = await connectJson(h.ws);
    const b = await connectJson(h.ws);
    await a.client.call({ type: 'subscribe', topic: 't' });
    await b.client.call({ type: 'subscribe', topic: 't' });
    for (let i = 0; i < 20; i++) await a.client.call({ type: 'publish', topic: 't', data: i });
    // The window closes with time, not with an event: poll until a window holds the messages.
    await expect
      .poll(async () => (await stats()).messagesInPerSec, { timeout: 10_000, interval: 200 })
      .toBeGreaterThan(0);
    // Two readers, back to back (well inside one window): the same numbers, not their own deltas.
    const [x, y] = [await stats(), await stats()];
    expect(y.messagesInPerSec).toBe(x.messagesInPerSec);
    expect(y.messagesOutPerSec).toBe(x.messagesOutPerSec);
  });

  it('origins that are not origins are refused at start-up, by createHub and by the server config', () => {
    for (const bad of [['foo'], ['app.example.com'], ['https://app.example.com/path'], ['*', 'https://a.example']])
      expect(invalidOrigin(bad)).toBeDefined();
    for (const good of [['https://app.example.com'], ['http://localhost:3000', 'https://A.example.com/']])
      expect(invalidOrigin(good)).toBeUndefined();
    expect(() => createHub({ origins: ['foo'] })).toThrow(/origins: "foo" is not an origin/);
    const read = (env: Record<string, string>) => Effect.runSync(readServerConfig(env));
    expect(() => read({ ACTORHUB_ORIGINS: 'foo' })).toThrow(/origins: "foo" is not an origin/);
    expect(read({ ACTORHUB_ORIGINS: 'https://a.example, https://b.example' }).hub.origins).toEqual([
      'https://a.example',
      'https://b.example',
    ]);
  });

  it('--port -1 is a value, refused with the range', () => {
    expect(parseCliArgs(['--port', '-1']).env).toEqual({ PORT: '-1' });
    expect(() => Effect.runSync(readServerConfig({ PORT: '-1' }))).toThrow('PORT must be between 0 and 65535, got -1.');
  });
});
