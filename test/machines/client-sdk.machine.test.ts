import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createActor, type AnyActorRef } from 'xstate';
import { sdkConnectionMachine, sdkSubscriptionMachine } from '../../machines/client-sdk.machine.js';
import type { SdkConnectionInput } from '../../machines/client-sdk.types.js';

/**
 * The SDK's connection and subscription machines alone: every effect is a spy, time is vitest's
 * fake clock (XState schedules `after` with setTimeout), randomness is fixed.
 */

const INPUT: SdkConnectionInput = {
  reconnect: { enabled: true, minDelayMs: 100, maxDelayMs: 1_000, stableAfterMs: 5_000 },
  pingIntervalMs: 1_000,
  pongTimeoutMs: 500,
  connectTimeoutMs: 2_000,
  terminalCodes: [1008, 4009],
  random: () => 0.5,
};

function fakeConnection(input: Partial<SdkConnectionInput> = {}) {
  const calls: string[] = [];
  const subCalls: string[] = [];
  const spy =
    (name: string) =>
    (_: unknown, params?: unknown): void =>
      void calls.push(params === undefined ? name : `${name} ${JSON.stringify(params)}`);
  const subSpy =
    (name: string) =>
    (_: unknown, params: { topic: string }): void =>
      void subCalls.push(`${name} ${params.topic}`);
  const acks: unknown[] = [];
  const machine = sdkConnectionMachine.provide({
    actions: {
      openSocket: spy('openSocket'),
      dropSocket: spy('dropSocket'),
      closeSocket: spy('closeSocket'),
      sendPing: spy('sendPing'),
      flushQueue: spy('flushQueue'),
      failInFlight: spy('failInFlight'),
      failAll: spy('failAll'),
    },
    actors: {
      subscription: sdkSubscriptionMachine.provide({
        actions: {
          sendSubscribe: subSpy('subscribe'),
          sendUnsubscribe: subSpy('unsubscribe'),
          acknowledged: (_, params) => void acks.push(params),
        },
      }),
    },
  });
  const actor = createActor(machine, { input: { ...INPUT, ...input } }).start();
  const sub = (topic: string): AnyActorRef => actor.getSnapshot().children[`sub:${topic}`] as AnyActorRef;
  return { actor, calls, subCalls, acks, sub, value: () => actor.getSnapshot().value };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('sdk connection machine', () => {
  it('starts connecting and opens a socket', () => {
    const { value, calls } = fakeConnection();
    expect(value()).toBe('connecting');
    expect(calls).toEqual(['openSocket']);
  });

  it('connecting → connected on welcome: records the id, resubscribes, flushes the queue', () => {
    const { actor, value, calls } = fakeConnection();
    actor.send({ type: 'connection.welcome', id: 'ann' });
    expect(value()).toEqual({ connected: 'quiet' });
    expect(actor.getSnapshot().context.id).toBe('ann');
    expect(calls).toEqual(['openSocket', 'flushQueue']);
  });

  it('connecting → reconnecting.waiting on a retryable close, then opening after the jittered backoff', () => {
    const { actor, value, calls } = fakeConnection();
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    expect(value()).toEqual({ reconnecting: 'waiting' });
    // attempt 0: random 0.5 × min(1000, 100 · 2^0) = 50 ms
    expect(actor.getSnapshot().context.delayMs).toBe(50);
    expect(actor.getSnapshot().context.lastClose).toEqual({ code: 1006, reason: '' });
    vi.advanceTimersByTime(49);
    expect(value()).toEqual({ reconnecting: 'waiting' });
    vi.advanceTimersByTime(1);
    expect(value()).toEqual({ reconnecting: 'opening' });
    expect(calls).toEqual(['openSocket', 'openSocket']);
  });

  it('backoff doubles per failed attempt up to maxDelayMs (full jitter: random × cap)', () => {
    const { actor } = fakeConnection({ random: () => 0.999 });
    const delays: number[] = [];
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    for (let i = 0; i < 6; i++) {
      delays.push(actor.getSnapshot().context.delayMs);
      vi.advanceTimersByTime(actor.getSnapshot().context.delayMs);
      actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' }); // opening → waiting
    }
    expect(delays).toEqual([99, 199, 399, 799, 999, 999]);
  });

  it('random 0 gives an immediate retry: the window starts at 0', () => {
    const { actor, value } = fakeConnection({ random: () => 0 });
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    expect(actor.getSnapshot().context.delayMs).toBe(0);
    vi.advanceTimersByTime(0);
    expect(value()).toEqual({ reconnecting: 'opening' });
  });

  it('connecting → closed on a terminal close code: marked terminal, everything failed, no retry', () => {
    const { actor, value, calls } = fakeConnection();
    actor.send({ type: 'connection.socketClosed', code: 1008, reason: 'policy' });
    expect(value()).toBe('closed');
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().context).toMatchObject({ terminal: true, lastClose: { code: 1008, reason: 'policy' } });
    expect(calls).toEqual(['openSocket', 'failAll']);
  });

  it('reconnect disabled: any close is final', () => {
    const { actor, value } = fakeConnection({ reconnect: { ...INPUT.reconnect, enabled: false } });
    actor.send({ type: 'connection.welcome', id: 'a' });
    actor.send({ type: 'connection.socketClosed', code: 1001, reason: 'going away' });
    expect(value()).toBe('closed');
    expect(actor.getSnapshot().context.terminal).toBe(true);
  });

  it('connecting: a handshake slower than connectTimeoutMs drops the socket and backs off', () => {
    const { actor, value, calls } = fakeConnection();
    vi.advanceTimersByTime(2_000);
    expect(value()).toEqual({ reconnecting: 'waiting' });
    expect(calls).toEqual(['openSocket', 'dropSocket']);
    expect(actor.getSnapshot().context.attempt).toBe(1);
  });

  it('reconnecting.opening: welcome → connected; terminal close → closed; timeout → waiting', () => {
    const a = fakeConnection({ random: () => 0 });
    a.actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    vi.advanceTimersByTime(0);
    a.actor.send({ type: 'connection.welcome', id: 'x' });
    expect(a.value()).toEqual({ connected: 'quiet' });

    const b = fakeConnection({ random: () => 0 });
    b.actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    vi.advanceTimersByTime(0);
    b.actor.send({ type: 'connection.socketClosed', code: 4009, reason: 'duplicate id' });
    expect(b.value()).toBe('closed');
    expect(b.actor.getSnapshot().context.terminal).toBe(true);

    const c = fakeConnection({ random: () => 0 });
    c.actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    vi.advanceTimersByTime(0);
    expect(c.value()).toEqual({ reconnecting: 'opening' });
    vi.advanceTimersByTime(2_000);
    expect(c.value()).toEqual({ reconnecting: 'waiting' });
    expect(c.calls).toContain('dropSocket');
  });

  it('connected → reconnecting on a lost socket: in-flight commands fail, subscriptions are told', () => {
    const { actor, value, calls, sub } = fakeConnection();
    actor.send({ type: 'connection.addSubscription', topic: 'room' });
    actor.send({ type: 'connection.welcome', id: 'a' });
    sub('room').send({ type: 'subscription.ack', result: undefined, recovered: undefined });
    expect(sub('room').getSnapshot().value).toBe('subscribed');
    actor.send({ type: 'connection.socketClosed', code: 1001, reason: 'going away' });
    expect(value()).toEqual({ reconnecting: 'waiting' });
    expect(calls).toEqual(['openSocket', 'flushQueue', 'failInFlight']);
    expect(sub('room').getSnapshot().value).toBe('subscribing');
    expect(actor.getSnapshot().context.lastClose).toEqual({ code: 1001, reason: 'going away' });
  });

  it('connected → closed on a terminal code', () => {
    const { actor, value, calls } = fakeConnection();
    actor.send({ type: 'connection.welcome', id: 'a' });
    actor.send({ type: 'connection.socketClosed', code: 1008, reason: 'too many bad frames' });
    expect(value()).toBe('closed');
    expect(calls).toEqual(['openSocket', 'flushQueue', 'failInFlight', 'failAll']);
  });

  it('connected: pings after pingIntervalMs of quiet; a pong goes back to quiet', () => {
    const { actor, value, calls } = fakeConnection();
    actor.send({ type: 'connection.welcome', id: 'a' });
    vi.advanceTimersByTime(1_000);
    expect(value()).toEqual({ connected: 'pinging' });
    expect(calls.at(-1)).toBe('sendPing');
    actor.send({ type: 'connection.pong' });
    expect(value()).toEqual({ connected: 'quiet' });
    vi.advanceTimersByTime(1_000);
    expect(calls.filter((c) => c === 'sendPing')).toHaveLength(2);
  });

  it('connected: no pong within pongTimeoutMs drops the socket and reconnects (half-open)', () => {
    const { actor, value, calls } = fakeConnection();
    actor.send({ type: 'connection.welcome', id: 'a' });
    vi.advanceTimersByTime(1_000 + 499);
    expect(value()).toEqual({ connected: 'pinging' });
    vi.advanceTimersByTime(1);
    expect(value()).toEqual({ reconnecting: 'waiting' });
    expect(calls).toEqual(['openSocket', 'flushQueue', 'sendPing', 'failInFlight', 'dropSocket']); // exit actions first
    expect(actor.getSnapshot().context.lastClose).toEqual({ code: 1006, reason: 'no pong' });
  });

  it('pingIntervalMs 0: never pings', () => {
    const { actor, value, calls } = fakeConnection({ pingIntervalMs: 0 });
    actor.send({ type: 'connection.welcome', id: 'a' });
    vi.advanceTimersByTime(60_000);
    expect(value()).toEqual({ connected: 'quiet' });
    expect(calls).not.toContain('sendPing');
  });

  it('a stable connection resets the backoff; an unstable one keeps growing it', () => {
    const { actor } = fakeConnection({ random: () => 0, pingIntervalMs: 0 });
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    vi.advanceTimersByTime(0);
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    vi.advanceTimersByTime(0);
    expect(actor.getSnapshot().context.attempt).toBe(2);
    actor.send({ type: 'connection.welcome', id: 'a' });
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' }); // welcomed, dropped at once
    expect(actor.getSnapshot().context.attempt).toBe(3);
    vi.advanceTimersByTime(0);
    actor.send({ type: 'connection.welcome', id: 'a' });
    vi.advanceTimersByTime(4_999);
    expect(actor.getSnapshot().context.attempt).toBe(3);
    vi.advanceTimersByTime(1);
    expect(actor.getSnapshot().context.attempt).toBe(0);
  });

  it('connection.close from every state: closed, socket closed, everything failed', () => {
    for (const prepare of [
      () => undefined,
      (a: ReturnType<typeof fakeConnection>) => a.actor.send({ type: 'connection.welcome', id: 'a' }),
      (a: ReturnType<typeof fakeConnection>) =>
        a.actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' }),
    ]) {
      const a = fakeConnection();
      prepare(a);
      a.actor.send({ type: 'connection.close' });
      expect(a.value()).toBe('closed');
      expect(a.calls).toContain('closeSocket');
      expect(a.calls.at(-1)).toBe('failAll');
      expect(a.actor.getSnapshot().context.terminal).toBe(false); // closed by the user, not by the server
    }
  });

  it('addSubscription while connected subscribes at once; while not, on the next welcome; removeSubscription stops it', () => {
    const { actor, subCalls, sub } = fakeConnection();
    actor.send({ type: 'connection.addSubscription', topic: 'early' });
    expect(subCalls).toEqual([]);
    expect(sub('early').getSnapshot().value).toBe('subscribing');
    actor.send({ type: 'connection.welcome', id: 'a' });
    expect(subCalls).toEqual(['subscribe early']);
    actor.send({ type: 'connection.addSubscription', topic: 'late' });
    expect(subCalls).toEqual(['subscribe early', 'subscribe late']);
    actor.send({ type: 'connection.removeSubscription', topic: 'late' });
    expect(sub('late')).toBeUndefined();
    // Every reconnect resubscribes every live subscription.
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    vi.runOnlyPendingTimers();
    actor.send({ type: 'connection.welcome', id: 'a' });
    expect(subCalls).toEqual(['subscribe early', 'subscribe late', 'subscribe early']);
  });

  it('addSubscription during reconnecting waits for the welcome', () => {
    const { actor, subCalls } = fakeConnection({ random: () => 0 });
    actor.send({ type: 'connection.socketClosed', code: 1006, reason: '' });
    actor.send({ type: 'connection.addSubscription', topic: 't' });
    expect(subCalls).toEqual([]);
    vi.advanceTimersByTime(0);
    actor.send({ type: 'connection.welcome', id: 'a' });
    expect(subCalls).toEqual(['subscribe t']);
  });

  it('closing stops the subscriptions with it', () => {
    const { actor, sub } = fakeConnection();
    actor.send({ type: 'connection.addSubscription', topic: 't' });
    const child = sub('t');
    actor.send({ type: 'connection.close' });
    expect(child.getSnapshot().status).toBe('stopped');
  });
});

describe('sdk subscription machine', () => {
  function fakeSub(connected: boolean) {
    const calls: string[] = [];
    const machine = sdkSubscriptionMachine.provide({
      actions: {
        sendSubscribe: (_, p) => void calls.push(`subscribe ${p.topic}`),
        sendUnsubscribe: (_, p) => void calls.push(`unsubscribe ${p.topic}`),
        acknowledged: (_, p) => void calls.push(`ack ${JSON.stringify(p)}`),
      },
    });
    const actor = createActor(machine, { input: { topic: 'room', connected } }).start();
    return { actor, calls, value: () => actor.getSnapshot().value };
  }

  it('created while connected: starting → subscribing with a subscribe sent', () => {
    const { value, calls } = fakeSub(true);
    expect(value()).toBe('subscribing');
    expect(calls).toEqual(['subscribe room']);
  });

  it('created offline: subscribing, nothing sent until subscription.connected', () => {
    const { actor, value, calls } = fakeSub(false);
    expect(value()).toBe('subscribing');
    expect(calls).toEqual([]);
    actor.send({ type: 'subscription.connected' });
    expect(calls).toEqual(['subscribe room']);
  });

  it('subscribing → subscribed on ack, with the ack handed to acknowledged', () => {
    const { actor, value, calls } = fakeSub(true);
    actor.send({ type: 'subscription.ack', result: { epoch: 'e', offset: 3 }, recovered: false });
    expect(value()).toBe('subscribed');
    expect(calls.at(-1)).toBe('ack {"topic":"room","result":{"epoch":"e","offset":3},"recovered":false}');
  });

  it('subscribing stays subscribing on subscription.disconnected (sent again on the next ready)', () => {
    const { actor, value, calls } = fakeSub(true);
    actor.send({ type: 'subscription.disconnected' });
    expect(value()).toBe('subscribing');
    actor.send({ type: 'subscription.connected' });
    expect(calls).toEqual(['subscribe room', 'subscribe room']);
  });

  it('subscribed → subscribing on subscription.disconnected', () => {
    const { actor, value } = fakeSub(true);
    actor.send({ type: 'subscription.ack', result: undefined, recovered: undefined });
    actor.send({ type: 'subscription.disconnected' });
    expect(value()).toBe('subscribing');
  });

  it('subscribing → failed on an error, keeping it; failed ignores reconnects', () => {
    const { actor, value, calls } = fakeSub(true);
    actor.send({ type: 'subscription.error', code: 'forbidden', message: 'no' });
    expect(value()).toBe('failed');
    expect(actor.getSnapshot().context.error).toEqual({ code: 'forbidden', message: 'no' });
    actor.send({ type: 'subscription.connected' });
    expect(calls).toEqual(['subscribe room']);
  });

  it('unsubscribe from subscribing, subscribed or failed: unsubscribed (final), unsubscribe sent', () => {
    for (const prepare of [
      () => undefined,
      (a: ReturnType<typeof fakeSub>) =>
        a.actor.send({ type: 'subscription.ack', result: undefined, recovered: undefined }),
      (a: ReturnType<typeof fakeSub>) => a.actor.send({ type: 'subscription.error', code: 'forbidden', message: 'no' }),
    ]) {
      const a = fakeSub(true);
      prepare(a);
      a.actor.send({ type: 'subscription.unsubscribe' });
      expect(a.value()).toBe('unsubscribed');
      expect(a.actor.getSnapshot().status).toBe('done');
      expect(a.calls.at(-1)).toBe('unsubscribe room');
    }
  });
});
