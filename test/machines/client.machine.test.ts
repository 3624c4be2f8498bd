import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { clientMachine } from '../../machines/client.machine.js';
import type { ClientEvent, Writer, WriterEvent } from '../../machines/client.types.js';

/** A client machine alone, with a fake writer and spies for the actions that reach the hub. */
function fakeClient() {
  const writerEvents: WriterEvent[] = [];
  let back: (event: ClientEvent) => void = () => undefined;
  const writer = { started: 0, disposed: 0 } as Writer & { started: number; disposed: number };
  writer.start = (owner) => {
    writer.started++;
    back = (event) => owner.send(event);
  };
  writer.send = (event) => void writerEvents.push(event);
  writer.dispose = () => void writer.disposed++;
  const handled: { id: string; data: Buffer; binary: boolean }[] = [];
  const reported: string[] = [];
  const machine = clientMachine.provide({
    actions: {
      handleMessage: (_, params) => void handled.push(params),
    },
  });
  const actor: ReturnType<typeof createActor<typeof machine>> = createActor(machine, {
    input: {
      id: 'c1',
      meta: { user: 'ann' },
      writer,
      limits: { maxMessages: 2, maxBytes: 100, policy: 'close' },
      badFrames: { max: 2, windowMs: 1_000 },
      departures: {
        send: (event) => {
          expect(event.ref).toBe(actor); // the hub tells this client from a later namesake by its ref
          reported.push(event.id);
        },
      },
    },
  }).start();
  return { actor, writer, writerEvents, handled, reported, socket: (event: ClientEvent) => back(event) };
}

describe('client machine', () => {
  it('starts open and starts its writer, once', () => {
    const { actor, writer } = fakeClient();
    expect(actor.getSnapshot().value).toBe('open');
    expect(writer.started).toBe(1);
    expect(Object.keys(actor.getSnapshot().children)).toEqual([]); // no second actor per client
    expect(actor.getSnapshot().context.meta).toEqual({ user: 'ann' });
  });

  it('open: hands inbound messages to handleMessage with its id', () => {
    const { handled, socket } = fakeClient();
    socket({ type: 'client.socketMessage', data: Buffer.from('hi'), binary: false });
    expect(handled).toEqual([{ id: 'c1', data: Buffer.from('hi'), binary: false }]);
  });

  it('open → closing on client.close, which asks the writer to send the close frame', () => {
    const { actor, writerEvents } = fakeClient();
    actor.send({ type: 'client.close', code: 1001, reason: 'bye' });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(writerEvents).toEqual([{ type: 'writer.close', code: 1001, reason: 'bye' }]);
  });

  it('open → closing on client.terminate, which asks the writer to destroy the socket', () => {
    const { actor, writerEvents } = fakeClient();
    actor.send({ type: 'client.terminate' });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(writerEvents).toEqual([{ type: 'writer.terminate' }]);
  });

  it.each([
    [{ type: 'client.overflowed', code: 4008, reason: 'slow consumer' } as const],
    [{ type: 'client.timedOut', code: 1006, reason: 'heartbeat timeout' } as const],
    [{ type: 'client.rateLimited', code: 1008, reason: 'rate limit exceeded' } as const],
  ])('open → closing when the writer reports %o (it already acted on the socket)', (event) => {
    const { actor, writerEvents, socket } = fakeClient();
    socket(event);
    expect(actor.getSnapshot().value).toBe('closing');
    expect(writerEvents).toEqual([]);
  });

  it('open → closing on client.shutdown (the hub draining), which sends the shutdown close frame', () => {
    const { actor, writerEvents, socket, reported } = fakeClient();
    actor.send({ type: 'client.shutdown', code: 1001, reason: 'server shutting down' });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(writerEvents).toEqual([{ type: 'writer.close', code: 1001, reason: 'server shutting down' }]);
    actor.send({ type: 'client.shutdown', code: 1001, reason: 'again' });
    expect(writerEvents).toHaveLength(1);
    socket({ type: 'client.socketClosed', code: 1001, reason: 'server shutting down' });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(reported).toEqual(['c1']);
  });

  it('open → closed when the socket closes: reports its departure to the hub, once', () => {
    const { actor, socket, reported } = fakeClient();
    socket({ type: 'client.socketClosed', code: 1006, reason: '' });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(reported).toEqual(['c1']);
    socket({ type: 'client.socketClosed', code: 1006, reason: '' });
    expect(reported).toEqual(['c1']);
  });

  it('closing: ignores inbound messages and another close, still terminates, ends on client.socketClosed', () => {
    const { actor, writerEvents, handled, socket } = fakeClient();
    actor.send({ type: 'client.close', code: 1000, reason: '' });
    socket({ type: 'client.socketMessage', data: Buffer.from('late'), binary: false });
    actor.send({ type: 'client.close', code: 4000, reason: 'again' });
    actor.send({ type: 'client.terminate' });
    expect(handled).toEqual([]);
    expect(writerEvents).toEqual([{ type: 'writer.close', code: 1000, reason: '' }, { type: 'writer.terminate' }]);
    socket({ type: 'client.socketClosed', code: 1000, reason: 'ok' });
    expect(actor.getSnapshot().value).toBe('closed');
  });

  it('closed: ignores everything; its writer, whose socket is gone, is neither used nor disposed', () => {
    const { actor, writer, writerEvents, socket } = fakeClient();
    socket({ type: 'client.socketClosed', code: 1000, reason: '' });
    actor.send({ type: 'client.close', code: 1000, reason: '' });
    actor.send({ type: 'client.terminate' });
    actor.send({ type: 'client.reply', frame: { byteLength: 1 } });
    expect(actor.getSnapshot().value).toBe('closed');
    expect(writerEvents).toEqual([]);
    expect(writer.disposed).toBe(0);
  });

  it('open: client.reply hands the frame to its own writer', () => {
    const { actor, writerEvents } = fakeClient();
    const frame = { byteLength: 3 };
    actor.send({ type: 'client.reply', frame });
    expect(writerEvents).toEqual([{ type: 'writer.deliver', frame }]);
  });

  it('open: more bad frames than the limit within the window closes with 1008', () => {
    const { actor, writerEvents } = fakeClient(); // max 2 per 1000 ms
    actor.send({ type: 'client.badFrame', now: 10 });
    actor.send({ type: 'client.badFrame', now: 20 });
    expect(actor.getSnapshot().value).toBe('open');
    actor.send({ type: 'client.badFrame', now: 30 });
    expect(actor.getSnapshot().value).toBe('closing');
    expect(writerEvents).toEqual([{ type: 'writer.close', code: 1008, reason: 'too many bad frames' }]);
  });

  it('open: bad frames spread over several windows are forgiven', () => {
    const { actor } = fakeClient();
    for (const now of [10, 20, 1_500, 1_600, 3_000, 3_100]) actor.send({ type: 'client.badFrame', now });
    expect(actor.getSnapshot().value).toBe('open');
    expect(actor.getSnapshot().context.badFrameCount).toBe(2);
  });
});
