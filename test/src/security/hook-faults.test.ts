import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HubOptions } from '../../../src/types.js';
import { connectJson, JsonClient } from '../../support/json-client.js';
import { connect, startHub, upgradeStatus, whenCount, type Harness } from '../../support/ws-client.js';

/**
 * Every user hook, throwing and rejecting: the hub and the other clients carry on, the fault is
 * logged and counted, the client concerned gets 1011 (500 at upgrade), and the process sees no
 * unhandled rejection or uncaught exception.
 */
let harness: Harness | undefined;
const escaped: unknown[] = [];
const onEscape = (err: unknown): void => void escaped.push(err);
beforeAll(() => {
  process.on('unhandledRejection', onEscape);
  process.on('uncaughtException', onEscape);
});
afterAll(() => {
  process.off('unhandledRejection', onEscape);
  process.off('uncaughtException', onEscape);
});
afterEach(async () => {
  // Let any stray rejection surface before judging.
  await new Promise((resolve) => setImmediate(resolve));
  expect(escaped).toEqual([]);
  await harness?.stop();
  harness = undefined;
});

const logged: string[] = [];
const logger = { error: (_o: object, m: string) => void logged.push(m), warn() {}, info() {}, debug() {} };

const fail = (): never => {
  throw new Error('hook bug');
};

const boom = (sync: boolean) =>
  sync
    ? () => {
        throw new Error('hook bug');
      }
    : async () => {
        throw new Error('async hook bug');
      };

/** A healthy client subscribed to 'news', and a check that it still gets what is published. */
async function bystander(h: Harness): Promise<{ client: JsonClient; stillReceives: () => Promise<void> }> {
  const { client, id } = await connectJson(h.url);
  h.hub.subscribe(id, 'news'); // from code: works whatever handles the client's own frames
  expect(h.hub.members('news')).toEqual([id]);
  let n = 0;
  return {
    client,
    stillReceives: async () => {
      const seq = n++;
      h.hub.publish('news', { seq });
      expect(await client.next('message')).toMatchObject({ topic: 'news', data: { seq } });
    },
  };
}

const start = async (options: HubOptions) => {
  logged.length = 0;
  harness = await startHub({ protocol: 'json', logger, ...options });
  return harness;
};

describe.each([
  ['throws', true],
  ['rejects', false],
])('a hook that %s', (_label, sync) => {
  it.each([
    [
      'canSubscribe',
      { canSubscribe: (_c: unknown, topic: string) => (topic === 'bad' ? boom(sync)() : true) },
      { type: 'subscribe', topic: 'bad' },
    ],
    [
      'canPublish',
      { canPublish: (_c: unknown, topic: string) => (topic === 'bad' ? boom(sync)() : true) },
      { type: 'publish', topic: 'bad', data: 1 },
    ],
    [
      'onMessage',
      { onMessage: (_c: unknown, data: string | Buffer) => (String(data).includes('bad') ? boom(sync)() : undefined) },
      { type: 'bad' },
    ],
  ] as const)('%s: only that client gets 1011; the others keep receiving', async (_hook, options, command) => {
    const h = await start(options as HubOptions);
    const other = await bystander(h);
    await other.stillReceives();
    const victim = new JsonClient(await connect(h.url));
    await whenCount(h.hub, (n) => n === 2);
    victim.send(command);
    expect(await victim.raw.closed).toEqual({ code: 1011, reason: 'internal error' });
    await whenCount(h.hub, (n) => n === 1);
    await other.stillReceives();
    expect(h.hub.stats.hookErrors).toBe(1);
    expect(logged.some((m) => m.includes('1011'))).toBe(true);
    expect(h.hub.actor.getSnapshot().status).toBe('active');
  });

  it('authenticate: 500 at upgrade, nobody registered, the others keep receiving', async () => {
    const h = await start({ authenticate: (req) => (req.url?.includes('bad') ? boom(sync)() : true) });
    const other = await bystander(h);
    expect(await upgradeStatus(`${h.url}?bad`)).toBe(500);
    expect(h.hub.size).toBe(1);
    await other.stillReceives();
    expect(h.hub.stats.hookErrors).toBe(1);
  });
});

describe('hooks that run synchronously only', () => {
  it('origins predicate: a throw refuses with 403', async () => {
    const h = await start({ origins: (origin) => (origin === 'https://bad.example' ? fail() : true) });
    const other = await bystander(h);
    expect(await upgradeStatus(h.url, { origin: 'https://bad.example' })).toBe(403);
    await other.stillReceives();
    expect(logged).toContain('origin predicate threw; refusing the upgrade');
  });

  it('generateId: a throw refuses with 500', async () => {
    let calls = 0;
    const h = await start({ generateId: () => (++calls === 2 ? fail() : `c${calls}`) });
    const other = await bystander(h);
    expect(await upgradeStatus(h.url)).toBe(500);
    await other.stillReceives();
    expect(h.hub.stats.hookErrors).toBe(1);
  });

  it('presenceEvents: a throw inside the hub actor counts as "no presence frames" and the hub lives on', async () => {
    const h = await start({ presenceEvents: (topic) => (topic === 'bad' ? fail() : true) });
    const other = await bystander(h);
    const { client: joiner } = await connectJson(h.url);
    expect(await joiner.call({ type: 'subscribe', topic: 'bad' })).toMatchObject({ type: 'ack' });
    expect(await joiner.call({ type: 'subscribe', topic: 'news' })).toMatchObject({ type: 'ack' });
    expect(await other.client.next('joined')).toMatchObject({ topic: 'news' });
    await other.stillReceives();
    expect(h.hub.actor.getSnapshot().status).toBe('active');
    expect(h.hub.stats.hookErrors).toBe(1);
  });
});

describe('a fault inside one client actor', () => {
  it('closes that client with 1011, logs it, and leaves the hub and the others untouched', async () => {
    const h = await start({ authenticate: (req) => ({ id: req.url?.includes('victim') ? 'victim' : undefined }) });
    const other = await bystander(h);
    const victim = await connect(`${h.url}?victim`);
    await whenCount(h.hub, (n) => n === 2);
    // A bug in the client's write loop: it throws inside its actor.
    h.hub.actor
      .getSnapshot()
      .context.clients.get('victim')!
      .ref.send({ type: 'client.reply', frame: null as never });
    expect(await victim.closed).toEqual({ code: 1011, reason: 'internal error' });
    await whenCount(h.hub, (n) => n === 1);
    await other.stillReceives();
    expect(logged).toContain('hub event failed');
    expect(h.hub.actor.getSnapshot().status).toBe('active');
  });
});
