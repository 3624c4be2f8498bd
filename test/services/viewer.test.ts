import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createHub, type Hub } from '../../src/hub.js';
import { createViewer } from '../../src/observability/viewer/viewer.js';
import { hubRoutes } from '../../src/server/http-routes.js';
import { connect, silentLogger, whenCount, type TestClient } from '../support/ws-client.js';

/**
 * The live viewer (GET /inspect) in a real headless Chromium against a real hub on port 0:
 * it draws both machines from their definitions, its counts follow clients connecting and
 * leaving, and following a client shows that client's close as a step of its machine. Every
 * request the page makes is checked to stay on the hub's own origin.
 * The screenshot is the artefact: test-results/viewer.png.
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
const SCREENSHOT = path.resolve('test-results/viewer.png');

let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `Chromium is missing at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH.`,
    );
  profile = await mkdtemp(path.join(os.tmpdir(), 'actorhub-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 950 },
  });
});

afterAll(async () => {
  await context?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

async function serve(): Promise<{ hub: Hub; origin: string; ws: string }> {
  const viewer = createViewer({ tickMs: 100 });
  const hub = createHub({ logger: silentLogger, inspect: viewer });
  const server = http.createServer(hubRoutes(hub, { viewer }));
  hub.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    await hub.close({ timeoutMs: 200 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const port = (server.address() as AddressInfo).port;
  return { hub, origin: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws` };
}

async function openViewer(origin: string): Promise<Page> {
  const page = await context.newPage();
  onTestFinished(() => page.close());
  const errors: string[] = [];
  const elsewhere: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && errors.push(msg.text()));
  page.on(
    'request',
    (req) => !req.url().startsWith(origin) && !req.url().startsWith('data:') && elsewhere.push(req.url()),
  );
  onTestFinished(() => {
    expect(errors, 'errors in the page').toEqual([]);
    expect(elsewhere, 'requests to another host').toEqual([]);
  });
  const response = await page.goto(`${origin}/inspect`);
  expect(response?.headers()['content-security-policy']).toMatch(/default-src 'none'/);
  await expect.poll(() => page.getByTestId('status').textContent()).toBe('live');
  return page;
}

const welcomed = async (url: string): Promise<{ client: TestClient; id: string }> => {
  const client = await connect(url);
  await client.received(1);
  return { client, id: (JSON.parse(client.texts[0]!) as { id: string }).id };
};

const count = (page: Page, state: string) => page.locator(`#client-diagram [data-count="${state}"]`).textContent();

describe('the live viewer in Chromium', () => {
  it('draws both machines, its counts follow clients connecting and leaving, and a followed client shows its close', async () => {
    const { hub, origin, ws } = await serve();
    const ann = await welcomed(ws);

    // Opened late: it sees the present, not a replay.
    const page = await openViewer(origin);
    for (const state of ['running', 'draining', 'stopped'])
      await page.locator(`#hub-diagram [data-state="${state}"]`).waitFor();
    for (const state of ['open', 'closing', 'closed'])
      await page.locator(`#client-diagram [data-state="${state}"]`).waitFor();
    expect(await page.locator('#client-diagram .edge[data-event="client.overflowed"]').count()).toBe(1);
    expect(await page.locator('#hub-diagram [data-state="running"]').getAttribute('class')).toMatch(/current/);
    await expect.poll(() => count(page, 'open')).toBe('1 clients');

    const bob = await welcomed(ws);
    await expect.poll(() => count(page, 'open')).toBe('2 clients');
    await expect.poll(() => page.getByTestId('events').textContent()).toMatch(/hub\.register/);

    // Follow Bob, then the hub closes him: his close is a step of his own machine.
    await page.fill('#follow-id', bob.id);
    await page.click('#follow-form button[type=submit]');
    await expect.poll(() => page.getByTestId('followed-state').textContent()).toBe('state: open (active)');
    hub.disconnect(bob.id, 4000, 'kicked');
    await page.locator('[data-testid=followed] tr[data-event="client.close"]', { hasText: '4000 kicked' }).waitFor();
    await page.locator('[data-testid=followed] tr[data-event="client.socketClosed"]', { hasText: 'closed' }).waitFor();
    await whenCount(hub, (n) => n === 1);
    await expect.poll(() => count(page, 'open')).toBe('1 clients');
    await expect.poll(() => page.getByTestId('followed-state').textContent()).toMatch(/closed|not connected/);

    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    ann.client.ws.close();
    await expect.poll(() => count(page, 'open')).toBe('0 clients');
  });
});
