import type { AnyActorRef, InspectionEvent } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { socketOf, yieldToIo } from '../../support/stalled-reader.js';
import { connect, startHub, whenCount, type Harness } from '../../support/ws-client.js';

/**
 * Every close, over real sockets, is seen by an inspection observer as a step of the client's
 * own machine: the event that took it (with code and reason) and the state it reached.
 */
interface Step {
  readonly actor: string;
  readonly event: { type: string; code?: number; reason?: string };
  readonly value: unknown;
}

function watcher() {
  const steps: Step[] = [];
  let waiting: { match: (s: Step) => boolean; resolve: (s: Step) => void }[] = [];
  const observer = (event: InspectionEvent): void => {
    if (event.type !== '@xstate.snapshot') return;
    const snap = event.snapshot as { value?: unknown };
    const step: Step = {
      actor: (event.actorRef as AnyActorRef).id,
      event: event.event as Step['event'],
      value: snap.value,
    };
    steps.push(step);
    waiting = waiting.filter((w) => (w.match(step) ? (w.resolve(step), false) : true));
  };
  const next = (match: (s: Step) => boolean): Promise<Step> => {
    const found = steps.find(match);
    return found ? Promise.resolve(found) : new Promise((resolve) => waiting.push({ match, resolve }));
  };
  return { observer, steps, next };
}

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const welcomeId = async (url: string) => {
  const client = await connect(url);
  await client.received(1);
  return { client, id: (JSON.parse(client.texts[0]!) as { id: string }).id };
};

describe('every close is a transition of the client machine', () => {
  it('close by the hub: client.close with its code and reason, open → closing → closed', async () => {
    const w = watcher();
    harness = await startHub({ inspect: w.observer });
    const { client, id } = await welcomeId(harness.url);
    harness.hub.disconnect(id, 4000, 'kicked');
    const closing = await w.next((s) => s.actor === id && s.event.type === 'client.close');
    expect(closing).toMatchObject({ value: 'closing', event: { code: 4000, reason: 'kicked' } });
    expect((await client.closed).code).toBe(4000);
    expect(await w.next((s) => s.actor === id && s.value === 'closed')).toMatchObject({
      event: { type: 'client.socketClosed' },
    });
  });

  it('an abrupt end: client.socketClosed with 1006, open → closed', async () => {
    const w = watcher();
    harness = await startHub({ inspect: w.observer });
    const { client, id } = await welcomeId(harness.url);
    client.ws.terminate();
    const closed = await w.next((s) => s.actor === id && s.value === 'closed');
    expect(closed.event).toMatchObject({ type: 'client.socketClosed', code: 1006 });
    expect(w.steps.filter((s) => s.actor === id).map((s) => s.value)).not.toContain('closing');
  });

  it('the inbound rate limit: client.rateLimited with 1008, open → closing', async () => {
    const w = watcher();
    harness = await startHub({
      inspect: w.observer,
      rateLimit: { messagesPerSec: 0.01, messagesBurst: 5, maxViolations: 3 },
    });
    const { client, id } = await welcomeId(harness.url);
    for (let i = 0; i < 20; i++) client.send(JSON.stringify({ type: 'ping' }));
    const step = await w.next((s) => s.actor === id && s.event.type === 'client.rateLimited');
    expect(step).toMatchObject({ value: 'closing', event: { code: 1008, reason: 'rate limit exceeded' } });
  });

  it('overflow of a slow reader: client.overflowed with 4008, open → closing → closed', async () => {
    const w = watcher();
    harness = await startHub({
      inspect: w.observer,
      protocol: 'relay',
      outbound: { policy: 'close', maxMessages: 8 },
      closeTimeoutMs: 100,
    });
    const hub = harness.hub;
    const client = await connect(harness.url);
    await whenCount(hub, (n) => n === 1);
    const id = hub.clients()[0]!.id;
    // The reader stops reading: the kernel buffers fill, then the writer's queue, then it overflows.
    socketOf(client).pause();
    const filler = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 6_000 && hub.stats.slowConsumerCloses === 0; i++) {
      hub.broadcast(filler);
      if (i % 8 === 7) await yieldToIo();
    }
    expect(hub.stats.slowConsumerCloses).toBe(1);
    socketOf(client).resume();
    // Awaiting the end, not the step: were the writer's report lost, this fails at once, not by timeout.
    await w.next((s) => s.actor === id && s.value === 'closed');
    const mine = w.steps.filter((s) => s.actor === id);
    expect(mine.map((s) => [s.event.type, s.value])).toEqual([
      ['xstate.init', 'open'],
      ['client.overflowed', 'closing'],
      ['client.socketClosed', 'closed'],
    ]);
    expect(mine[1]!.event).toMatchObject({ code: 4008, reason: 'slow consumer: outbound queue full' });
  });

  it('a silent peer: client.timedOut with 1006 and the heartbeat reason, open → closing → closed', async () => {
    const w = watcher();
    harness = await startHub({ inspect: w.observer, pingIntervalMs: 30, pongWaitMs: 80 });
    // autoPong off: the peer hears the pings and never answers, as a hung client would.
    const client = await connect(harness.url, { autoPong: false });
    await client.received(1);
    const id = (JSON.parse(client.texts[0]!) as { id: string }).id;
    expect((await client.closed).code).toBe(1006);
    await w.next((s) => s.actor === id && s.value === 'closed');
    expect(harness.hub.stats.heartbeatTimeouts).toBe(1);
    const mine = w.steps.filter((s) => s.actor === id);
    expect(mine.map((s) => [s.event.type, s.value])).toEqual([
      ['xstate.init', 'open'],
      ['client.timedOut', 'closing'],
      ['client.socketClosed', 'closed'],
    ]);
    expect(mine[1]!.event).toMatchObject({ code: 1006, reason: 'heartbeat timeout' });
  });

  it('an expired token: client.tokenExpired with 4001, open → closing → closed', async () => {
    const w = watcher();
    harness = await startHub({ inspect: w.observer, authenticate: () => ({ expiresAt: Date.now() + 50 }) });
    const { client, id } = await welcomeId(harness.url);
    expect((await client.closed).code).toBe(4001);
    await w.next((s) => s.actor === id && s.value === 'closed');
    const mine = w.steps.filter((s) => s.actor === id);
    expect(mine.map((s) => [s.event.type, s.value])).toEqual([
      ['xstate.init', 'open'],
      ['client.tokenExpired', 'closing'],
      ['client.socketClosed', 'closed'],
    ]);
    expect(mine[1]!.event).toMatchObject({ code: 4001, reason: 'token expired' });
  });

  it('removed while connected (hub.unregister): client.close 1000, then stopped in closing', async () => {
    const w = watcher();
    harness = await startHub({ inspect: w.observer });
    const { client, id } = await welcomeId(harness.url);
    harness.hub.actor.send({ type: 'hub.unregister', id });
    expect(await client.closed).toMatchObject({ code: 1000, reason: 'unregistered' });
    const stopped = await w.next((s) => s.actor === id && s.event.type === 'xstate.stop');
    expect(stopped.value).toBe('closing');
    const mine = w.steps.filter((s) => s.actor === id);
    expect(mine.map((s) => [s.event.type, s.value])).toEqual([
      ['xstate.init', 'open'],
      ['client.close', 'closing'],
      ['xstate.stop', 'closing'],
    ]);
    expect(mine[1]!.event).toMatchObject({ code: 1000, reason: 'unregistered' });
  });

  it('shutdown with an inspector attached: client.shutdown with 1001, open → closing → closed', async () => {
    const w = watcher();
    harness = await startHub({ inspect: w.observer });
    const { client, id } = await welcomeId(harness.url);
    const closed = client.closed;
    await harness.hub.close({ reason: 'maintenance', timeoutMs: 5_000 });
    expect((await closed).code).toBe(1001);
    const mine = w.steps.filter((s) => s.actor === id);
    expect(mine.map((s) => [s.event.type, s.value])).toEqual(
      expect.arrayContaining([
        ['client.shutdown', 'closing'],
        ['client.socketClosed', 'closed'],
      ]),
    );
    expect(mine.find((s) => s.event.type === 'client.shutdown')?.event).toMatchObject({
      code: 1001,
      reason: 'maintenance',
    });
  });
});
