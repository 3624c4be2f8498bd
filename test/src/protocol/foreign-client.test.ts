import { WebSocket } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startHub, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/**
 * A client nobody here wrote: undici's WebSocket, the WHATWG (browser) API, speaking the
 * protocol exactly as docs/protocol.md describes it — no helpers from this project.
 */
function browserStyleClient(url: string) {
  const ws = new WebSocket(url);
  const inbox: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  ws.addEventListener('message', (ev) => {
    inbox.push(JSON.parse(String(ev.data)));
    waiters.splice(0).forEach((w) => w());
  });
  const take = async (pred: (f: Record<string, unknown>) => boolean) => {
    for (;;) {
      const i = inbox.findIndex(pred);
      if (i >= 0) return inbox.splice(i, 1)[0]!;
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('connection failed')));
  });
  return { ws, opened, take, send: (f: unknown) => ws.send(JSON.stringify(f)) };
}

describe('a foreign WebSocket client (undici, browser-style API)', () => {
  it('joins a topic, sees presence, exchanges messages and direct sends, and reads errors', async () => {
    harness = await startHub({ protocol: 'json', presenceEvents: true });
    const alice = browserStyleClient(harness.url);
    const bob = browserStyleClient(harness.url);
    await Promise.all([alice.opened, bob.opened]);
    const aliceId = (await alice.take((f) => f.type === 'welcome')).id as string;
    const bobId = (await bob.take((f) => f.type === 'welcome')).id as string;

    alice.send({ type: 'subscribe', topic: 'chat', ref: 'a1' });
    expect(await alice.take((f) => f.ref === 'a1')).toEqual({ type: 'ack', ref: 'a1' });
    bob.send({ type: 'subscribe', topic: 'chat', ref: 'b1' });
    await bob.take((f) => f.ref === 'b1');
    expect(await alice.take((f) => f.type === 'joined')).toEqual({
      type: 'joined',
      topic: 'chat',
      client: { id: bobId },
    });

    bob.send({ type: 'publish', topic: 'chat', data: { text: 'hello' }, ref: 'b2' });
    expect(await bob.take((f) => f.ref === 'b2')).toEqual({
      type: 'ack',
      ref: 'b2',
      result: { delivered: 1, forwarded: 0 },
    });
    expect(await alice.take((f) => f.type === 'message')).toEqual({
      type: 'message',
      topic: 'chat',
      from: bobId,
      data: { text: 'hello' },
    });

    alice.send({ type: 'send', to: bobId, data: 'just you', ref: 'a2' });
    expect(await bob.take((f) => f.type === 'message')).toEqual({ type: 'message', from: aliceId, data: 'just you' });

    alice.send({ type: 'presence', topic: 'chat', ref: 'a3' });
    const presence = await alice.take((f) => f.ref === 'a3');
    expect((presence.result as { members: { id: string }[] }).members.map((m) => m.id)).toEqual(
      [aliceId, bobId].sort(), // in id order
    );

    alice.send({ type: 'shout', ref: 'a4' });
    expect(await alice.take((f) => f.ref === 'a4')).toMatchObject({ type: 'error', code: 'unknown_type' });

    const closed = new Promise<number>((r) => alice.ws.addEventListener('close', (ev) => r(ev.code)));
    bob.ws.close(1000);
    expect(await alice.take((f) => f.type === 'left')).toEqual({ type: 'left', topic: 'chat', client: { id: bobId } });
    await harness.hub.close();
    expect(await closed).toBe(1001);
  });
});
