import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { createClient } from '../../src/client/index.js';
import { hubRoutes } from '../../src/server/http-routes.js';
import { createHub } from '../../src/hub.js';
import type { HubOptions } from '../../src/types.js';
import { spawnHub, uniquePrefix } from '../support/hub-process.js';
import { tcpProxy } from '../support/tcp-proxy.js';
import { silentLogger } from '../support/ws-client.js';
import { REDIS_URL, requireService } from './services.js';

/**
 * The live page (GET /) in a real headless Chromium against a real hub on port 0: what a
 * person sees is what the protocol did. The screenshot is the artefact: test-results/page.png.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SCREENSHOT = path.resolve('test-results/page.png');

let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  // Fail, never skip: the browser test is part of the service suite.
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH.`,
    );
  profile = await mkdtemp(path.join(os.tmpdir(), 'actorhub-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 760 },
  });
});

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function serve(
  options: HubOptions = {},
  onHub: (hub: ReturnType<typeof createHub>) => void = () => {},
): Promise<string> {
  const hub = createHub({ logger: silentLogger, ...options });
  onHub(hub);
  const server = http.createServer(hubRoutes(hub));
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    await hub.close({ timeoutMs: 200 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

/**
 * What the browser itself logs while the hub is down: its polls of /stats and its WebSocket
 * attempts fail at the network level, refused (the hub's port is closed) or cut in several ways
 * (a proxy in front of a dead process accepts, then drops, the connection: CLOSED, RESET,
 * EMPTY_RESPONSE, SOCKET_NOT_CONNECTED…). An HTTP error status is not one of them.
 */
const HUB_DOWN = /Failed to load resource: net::ERR_[A-Z_]+$|WebSocket connection to '[^']+' failed/;

/**
 * Opens the page and fails the test on any error it logs. `hubRestarts`: the test stops the hub on
 * purpose, so the browser's own network errors while it is down are expected (HUB_DOWN).
 */
async function open(url: string, { hubRestarts = false } = {}): Promise<{ page: Page; id: string }> {
  const page = await context.newPage();
  onTestFinished(() => page.close());
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    if (hubRestarts && HUB_DOWN.test(msg.text())) return;
    errors.push(msg.text());
  });
  onTestFinished(() => expect(errors, 'errors in the page').toEqual([]));
  await page.goto(url);
  await expect.poll(() => page.getByTestId('me').textContent()).toMatch(/^you are \S+/);
  const id = (await page.getByTestId('me').textContent())!.replace('you are ', '');
  return { page, id };
}

async function join(page: Page, topic: string): Promise<void> {
  await page.fill('#topic', topic);
  await page.click('#join');
  await page.locator(`[data-testid=topics] li[data-topic="${topic}"].active`).waitFor();
}

describe('the live page in Chromium', () => {
  it('two people join a topic, one publishes, the other sees the message and who is present', async () => {
    const url = await serve();
    const ann = await open(url);
    const bob = await open(url);
    expect(ann.id).not.toBe(bob.id);

    await join(ann.page, 'lobby');
    await join(bob.page, 'lobby');
    // Bob's presence list, asked with the protocol's presence command, holds both.
    for (const id of [ann.id, bob.id])
      await bob.page.locator(`[data-testid=presence] li[data-member="${id}"]`).waitFor();
    await expect.poll(() => bob.page.locator('[data-testid=presence] li[data-member]').count()).toBe(2);

    await ann.page.fill('#text', 'Grüße from Ann');
    await ann.page.click('#send');
    await ann.page.locator('.msg.mine', { hasText: 'delivered to 1' }).waitFor();
    const got = bob.page.locator('[data-testid=messages] .msg', { hasText: 'Grüße from Ann' });
    await got.waitFor();
    expect(await got.locator('.meta').textContent()).toBe(`#lobby · ${ann.id}`);

    await bob.page.fill('#text', 'Hi Ann!');
    await bob.page.click('#send');
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'Hi Ann!' }).waitFor();

    // The hub panel polls GET /stats: two clients, one topic, and messages counted.
    await expect.poll(() => bob.page.getByTestId('stat-clients').textContent()).toBe('2');
    await expect.poll(() => bob.page.getByTestId('stat-topics').textContent()).toBe('1');
    await expect.poll(() => bob.page.locator('#stat-foot').textContent()).toMatch(/^hub running · up \d+ s/);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await bob.page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(existsSync(SCREENSHOT)).toBe(true);

    // Leaving shows on the other side once presence is asked again (on Ann's next join/select).
    await bob.page.locator('[data-testid=topics] li[data-topic="lobby"] button').click();
    await bob.page.locator('[data-testid=topics] li[data-topic="lobby"]').waitFor({ state: 'detached' });
    await ann.page.locator('[data-testid=topics] li[data-topic="lobby"]').click();
    await expect.poll(() => ann.page.locator('[data-testid=presence] li[data-member]').count()).toBe(1);
  });

  it('rebuilt on the SDK: after a server restart the page reconnects by itself, resubscribes and receives again', async () => {
    // A hub on a fixed port, stopped (1001 to everyone) and started again: a deploy.
    let port = 0;
    let running: { hub: ReturnType<typeof createHub>; server: http.Server } | undefined;
    const start = async () => {
      const hub = createHub({ logger: silentLogger, history: { size: 100 } });
      const server = http.createServer(hubRoutes(hub));
      hub.attach(server);
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      running = { hub, server };
    };
    const stop = async () => {
      if (!running) return;
      const { hub, server } = running;
      running = undefined;
      await hub.close({ timeoutMs: 200 });
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
    await start();
    onTestFinished(stop);
    const url = `http://127.0.0.1:${port}/`;
    const ann = await open(url, { hubRestarts: true });
    await join(ann.page, 'deploys');
    running!.hub.publish('deploys', 'before the restart');
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'before the restart' }).waitFor();

    await stop();
    await expect.poll(() => ann.page.getByTestId('status').textContent()).toMatch(/^reconnecting… \(1001/);
    await start();
    await expect.poll(() => ann.page.getByTestId('status').textContent(), { timeout: 20_000 }).toBe('connected');
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'resubscribed to deploys' }).waitFor();
    // The in-memory history restarted with the hub: a new epoch, so the page says it has a gap.
    await ann.page.locator('[data-testid=messages] .msg.gap', { hasText: 'the stream was restarted' }).waitFor();
    await expect.poll(() => running!.hub.topics()).toEqual([{ topic: 'deploys', members: 1 }]);
    running!.hub.publish('deploys', 'after the restart');
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'after the restart' }).waitFor();
    expect(await ann.page.getByTestId('me').textContent()).toMatch(/^you are \S+/);
    await ann.page.screenshot({ path: path.resolve('test-results/page-reconnected.png'), fullPage: true });
  });

  it('rebuilt on the SDK: a dropped page recovers what was published meanwhile, once and in order', async () => {
    let hub!: ReturnType<typeof createHub>;
    const url = await serve({ history: { size: 100 } }, (h) => (hub = h));
    const ann = await open(url);
    await join(ann.page, 'feed');
    hub.publish('feed', 'm1');
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'm1' }).waitFor();
    hub.disconnect(ann.id, 4000, 'dropped'); // not terminal: the page reconnects with since
    for (const m of ['m2', 'm3', 'm4']) hub.publish('feed', m);
    await ann.page.locator('[data-testid=messages] .msg.recovered', { hasText: 'after offset 1' }).waitFor();
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'm4' }).waitFor();
    const texts = await ann.page.locator('[data-testid=messages] .msg:not(.note)').allTextContents();
    expect(texts.filter((t) => /m\d$/.test(t))).toEqual([
      `#feed · server · offset 1m1`,
      `#feed · server · offset 2m2`,
      `#feed · server · offset 3m3`,
      `#feed · server · offset 4m4`,
    ]);
    expect(await ann.page.locator('.msg.gap').count()).toBe(0);
  });

  it('rebuilt on the SDK: its node crashes and restarts while another node publishes; the page recovers, no gap', async () => {
    // Two hub processes sharing history in Redis; the page reaches node a through a proxy (its
    // load balancer), so its URL stays valid when a new process replaces the killed one.
    await requireService('Redis', REDIS_URL);
    const prefix = uniquePrefix('page');
    const node = async (id: string) => {
      const p = await spawnHub([
        '--redis',
        REDIS_URL,
        '--history-size',
        '1000',
        '--cluster-prefix',
        prefix,
        '--node-id',
        id,
      ]);
      onTestFinished(() => p.kill());
      return p;
    };
    const [a, b] = await Promise.all([node('a'), node('b')]);
    const lb = await tcpProxy('127.0.0.1', a.port);
    onTestFinished(() => lb.close());
    const pub = createClient(b.url, { WebSocket });
    onTestFinished(() => pub.close());
    const topic = `feed-${Date.now().toString(36)}`;

    const ann = await open(`http://127.0.0.1:${lb.port}/`, { hubRestarts: true });
    await join(ann.page, topic);
    await expect(pub.publish(topic, 'm1')).resolves.toMatchObject({ offset: 1 }); // the topic's first message
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'm1' }).waitFor();

    await a.kill(); // SIGKILL: no close frame
    await expect.poll(() => ann.page.getByTestId('status').textContent()).toMatch(/^reconnecting…/);
    for (const m of ['m2', 'm3', 'm4']) await pub.publish(topic, m); // stored in Redis while the page is away
    const restarted = await node('a');
    lb.retarget(restarted.port);
    await expect.poll(() => ann.page.getByTestId('status').textContent(), { timeout: 20_000 }).toBe('connected');
    await ann.page.locator('[data-testid=messages] .msg', { hasText: `resubscribed to ${topic}` }).waitFor();
    await ann.page
      .locator('.msg.recovered', { hasText: `#${topic}: recovered what was missed after offset 1` })
      .waitFor();
    await pub.publish(topic, 'm5'); // live again, on the new process
    await ann.page.locator('[data-testid=messages] .msg', { hasText: 'm5' }).waitFor();
    const texts = await ann.page.locator('[data-testid=messages] .msg:not(.note)').allTextContents();
    expect(texts.filter((t) => /m\d$/.test(t))).toEqual(
      [1, 2, 3, 4, 5].map((n) => `#${topic} · ${pub.id} · offset ${n}m${n}`),
    );
    expect(await ann.page.locator('.msg.gap').count()).toBe(0);
    await ann.page.screenshot({ path: path.resolve('test-results/page-recovered.png'), fullPage: true });
  });

  it('a page shows its own connection at once, without waiting for the next periodic poll', async () => {
    const url = await serve();
    const page = await context.newPage();
    onTestFinished(() => page.close());
    // Timers frozen: setInterval never fires, so only a poll made on connecting can show the count.
    await page.clock.install();
    await page.clock.pauseAt(Date.now() + 1_000);
    await page.goto(url);
    // Generous bounds: with the page's clock paused, waiting longer cannot make a periodic poll happen.
    await expect.poll(() => page.getByTestId('me').textContent(), { timeout: 10_000 }).toMatch(/^you are \S+/);
    await expect.poll(() => page.getByTestId('stat-clients').textContent(), { timeout: 10_000 }).toBe('1');
  });

  it('says so when the hub speaks the relay protocol, and still relays text', async () => {
    const url = await serve({ protocol: 'relay' });
    const [a, b] = [await context.newPage(), await context.newPage()];
    onTestFinished(async () => void (await Promise.all([a.close(), b.close()])));
    for (const page of [a, b]) {
      await page.goto(url);
      await expect.poll(() => page.getByTestId('status').textContent()).toBe('connected (relay)');
    }
    expect(await a.locator('#relay').isVisible()).toBe(true);
    expect(await a.locator('#join').isDisabled()).toBe(true);
    await a.fill('#text', 'plain text');
    await a.click('#send');
    await b.locator('[data-testid=messages] .msg', { hasText: 'plain text' }).waitFor();
  });

  it('serves the page only for GET and HEAD, with a strict content security policy', async () => {
    const url = await serve();
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'; script-src 'sha256-[^']+'/);
    expect(await res.text()).not.toMatch(/<script src=|<link rel="stylesheet"|https?:\/\//); // nothing from elsewhere
    expect((await fetch(url, { method: 'POST' })).status).toBe(405);
  });
});
