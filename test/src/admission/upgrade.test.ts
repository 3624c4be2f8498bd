import { afterEach, describe, expect, it } from 'vitest';
import { connect, startHub, upgradeStatus, whenCount, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe('path', () => {
  it('upgrades only the configured path; any other gets 404', async () => {
    harness = await startHub({ path: '/live' });
    const base = `ws://127.0.0.1:${harness.port}`;
    expect(await upgradeStatus(`${base}/live`)).toBe(101);
    expect(await upgradeStatus(`${base}/live?token=x`)).toBe(101);
    expect(await upgradeStatus(`${base}/ws`)).toBe(404);
    expect(await upgradeStatus(`${base}/live/more`)).toBe(404);
    expect(harness.hub.stats.rejectedUpgrades).toBe(2);
  });
});

describe('origin policy', () => {
  it('same-origin by default: a foreign Origin gets 403 and never reaches the hub', async () => {
    harness = await startHub();
    const own = `http://127.0.0.1:${harness.port}`;
    expect(await upgradeStatus(harness.url, { origin: 'http://evil.example' })).toBe(403);
    expect(await upgradeStatus(harness.url, { origin: `http://127.0.0.1:${harness.port + 1}` })).toBe(403);
    expect(await upgradeStatus(harness.url, { headers: { origin: 'null' } })).toBe(403);
    expect(await upgradeStatus(harness.url, { origin: own })).toBe(101);
    // No Origin header: not a browser page, so no cross-site hijacking is possible.
    expect(await upgradeStatus(harness.url)).toBe(101);
    expect(harness.hub.stats.connectionsTotal).toBe(2);
  });

  it('an allow-list admits exactly its origins', async () => {
    harness = await startHub({ origins: ['https://app.example.com'] });
    expect(await upgradeStatus(harness.url, { origin: 'https://app.example.com' })).toBe(101);
    expect(await upgradeStatus(harness.url, { origin: 'https://APP.example.com/' })).toBe(101);
    expect(await upgradeStatus(harness.url, { origin: 'http://app.example.com' })).toBe(403);
    expect(await upgradeStatus(harness.url, { origin: `http://127.0.0.1:${harness.port}` })).toBe(403);
  });

  it('a predicate decides, and one that throws refuses', async () => {
    harness = await startHub({
      origins: (origin) => {
        if (origin === 'https://boom.example') throw new Error('predicate bug');
        return origin?.endsWith('.trusted.example') ?? false;
      },
    });
    expect(await upgradeStatus(harness.url, { origin: 'https://a.trusted.example' })).toBe(101);
    expect(await upgradeStatus(harness.url, { origin: 'https://other.example' })).toBe(403);
    expect(await upgradeStatus(harness.url, { origin: 'https://boom.example' })).toBe(403);
    expect(await upgradeStatus(harness.url)).toBe(403);
  });

  it("'*' admits any origin", async () => {
    harness = await startHub({ origins: '*' });
    expect(await upgradeStatus(harness.url, { origin: 'http://anything.example' })).toBe(101);
  });
});

describe('authenticate()', () => {
  const token = (req: { url?: string | undefined }) => new URL(req.url ?? '/', 'http://h').searchParams.get('token');

  it('false → 401 with no upgrade; the hub never sees the client', async () => {
    harness = await startHub({ authenticate: (req) => token(req) === 'good' });
    expect(await upgradeStatus(`${harness.url}?token=bad`)).toBe(401);
    expect(await upgradeStatus(harness.url)).toBe(401);
    expect(harness.hub.stats.connectionsTotal).toBe(0);
    expect(harness.hub.size).toBe(0);
    expect(await upgradeStatus(`${harness.url}?token=good`)).toBe(101);
  });

  it('async, with an explicit reject status', async () => {
    harness = await startHub({
      authenticate: async (req) =>
        token(req) === 'banned' ? { reject: 403, message: 'banned' } : { id: `user-${token(req)}` },
    });
    expect(await upgradeStatus(`${harness.url}?token=banned`)).toBe(403);
    const c = await connect(`${harness.url}?token=7`);
    await whenCount(harness.hub, (n) => n === 1);
    expect(harness.hub.has('user-7')).toBe(true);
    c.ws.close();
  });

  it('a hook that throws → 500, counted, and the hub keeps serving', async () => {
    harness = await startHub({
      authenticate: (req) => {
        if (token(req) === 'crash') throw new Error('auth bug');
        return true;
      },
    });
    expect(await upgradeStatus(`${harness.url}?token=crash`)).toBe(500);
    expect(harness.hub.stats.hookErrors).toBe(1);
    expect(await upgradeStatus(`${harness.url}?token=ok`)).toBe(101);
  });

  it('a hook that never answers → 503 after authTimeoutMs', async () => {
    harness = await startHub({ authTimeoutMs: 50, authenticate: () => new Promise(() => undefined) });
    expect(await upgradeStatus(harness.url)).toBe(503);
    expect(harness.hub.size).toBe(0);
  });

  it('an id that is already connected → 409', async () => {
    harness = await startHub({ authenticate: () => ({ id: 'same' }) });
    const first = await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 1);
    expect(await upgradeStatus(harness.url)).toBe(409);
    expect(first.ws.readyState).toBe(first.ws.OPEN);
  });

  it('per-client outbound limits from authenticate() override the hub defaults', async () => {
    harness = await startHub({
      authenticate: () => ({ id: 'vip', limits: { policy: 'drop-oldest', maxMessages: 9 } }),
    });
    await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 1);
    const ref = harness.hub.actor.getSnapshot().context.clients.get('vip')!.ref;
    expect(ref.getSnapshot().context.limits).toEqual({ maxMessages: 9, maxBytes: 1024 * 1024, policy: 'drop-oldest' });
  });

  it('invalid per-client limits from authenticate() → 500, no client', async () => {
    harness = await startHub({ authenticate: () => ({ limits: { maxMessages: -1 } }) });
    expect(await upgradeStatus(harness.url)).toBe(500);
    expect(harness.hub.stats.connectionsTotal).toBe(0);
  });
});

describe('capacity', () => {
  it('beyond maxClients → 503, and a slot frees when a client leaves', async () => {
    harness = await startHub({ maxClients: 2 });
    const a = await connect(harness.url);
    await connect(harness.url);
    await whenCount(harness.hub, (n) => n === 2);
    expect(await upgradeStatus(harness.url)).toBe(503);
    a.ws.close();
    await whenCount(harness.hub, (n) => n === 1);
    expect(await upgradeStatus(harness.url)).toBe(101);
  });
});
