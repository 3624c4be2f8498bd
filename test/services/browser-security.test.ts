import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '../../src/hub.js';
import { silentLogger } from '../support/ws-client.js';

/**
 * A real browser (Chromium) against the hub: a page on the hub's own origin authenticates with
 * a token in a subprotocol; a page on another origin (cross-site WebSocket hijacking) is
 * refused before the hub sees it.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let browser: Browser;
let hub: Hub;
let registers = 0;
const servers: http.Server[] = [];

const page = (script: string) => `<!doctype html><meta charset="utf-8"><script>${script}</script>`;

/** What the page's socket did: opened (with which subprotocol) or failed. */
const probe = (protocols: string[]) => `
  window.result = new Promise((resolve) => {
    const ws = new WebSocket(window.hubUrl, ${JSON.stringify(protocols)});
    ws.onopen = () => { resolve({ open: true, protocol: ws.protocol }); ws.close(); };
    ws.onerror = () => resolve({ open: false });
  });`;

const listen = async (handler: http.RequestListener): Promise<{ server: http.Server; port: number }> => {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
};

let hubPort = 0;
let otherPort = 0;

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  hub = createHub({
    logger: silentLogger,
    auth: { tokens: ['s3cret'] },
    inspect: (e) => {
      if (e.type === '@xstate.event' && e.event.type === 'hub.register') registers++;
    },
  });
  const pages: Record<string, string> = {};
  const serve: http.RequestListener = (req, res) => {
    const body = pages[req.url ?? ''];
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html' }).end(body);
  };
  const own = await listen(serve);
  hubPort = own.port;
  hub.attach(own.server);
  otherPort = (await listen(serve)).port; // another origin serving the same pages
  const hubUrl = `ws://127.0.0.1:${hubPort}/ws`;
  pages['/good'] = page(`window.hubUrl = ${JSON.stringify(hubUrl)};${probe(['actorhub', 'bearer.s3cret'])}`);
  pages['/bad-token'] = page(`window.hubUrl = ${JSON.stringify(hubUrl)};${probe(['actorhub', 'bearer.wrong'])}`);
  pages['/token-only'] = page(`window.hubUrl = ${JSON.stringify(hubUrl)};${probe(['bearer.s3cret'])}`);
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await hub?.close({ timeoutMs: 200 });
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

const visit = async (origin: number, path: string): Promise<{ open: boolean; protocol?: string }> => {
  const tab = await browser.newPage();
  try {
    await tab.goto(`http://127.0.0.1:${origin}${path}`);
    return await tab.evaluate(
      () => (globalThis as unknown as { result: Promise<{ open: boolean; protocol?: string }> }).result,
    );
  } finally {
    await tab.close();
  }
};

// Each test drives a browser tab: give it the service suite's 30 s even when run by `npm test`.
describe('a real browser', { timeout: 30_000 }, () => {
  it('connects with its token in a subprotocol; the hub answers the other subprotocol', async () => {
    const before = registers;
    expect(await visit(hubPort, '/good')).toEqual({ open: true, protocol: 'actorhub' });
    expect(registers).toBe(before + 1);
  });

  it('a wrong token fails the handshake (401) and never reaches the hub', async () => {
    const before = registers;
    expect(await visit(hubPort, '/bad-token')).toEqual({ open: false });
    expect(registers).toBe(before);
  });

  it('a token-only offer fails in the browser: the hub never echoes the token', async () => {
    expect(await visit(hubPort, '/token-only')).toEqual({ open: false });
  });

  it('cross-site WebSocket hijacking: a page on another origin is refused, even with the right token', async () => {
    const before = registers;
    const rejected = hub.stats.rejectedUpgrades;
    expect(await visit(otherPort, '/good')).toEqual({ open: false });
    expect(registers).toBe(before);
    expect(hub.stats.rejectedUpgrades).toBe(rejected + 1);
  });
});
