import { assign, sendParent, setup } from 'xstate';
import type { Frame, ClientContext, ClientEvent, ClientInput, TopicGrant } from './client.types.js';

/**
 * One connected client. It owns its socket through its `writer` (the write loop from src/, a
 * plain object it starts on entry: a delivery costs no machine transition and no second actor)
 * and, once its socket is gone, unregisters itself from the hub, which then stops it.
 */
export const clientMachine = setup({
  types: {
    context: {} as ClientContext,
    input: {} as ClientInput,
    events: {} as ClientEvent,
  },
  guards: {
    // Counted before countBadFrame runs: this frame would be one too many.
    isLastStraw: ({ context }, params: { now: number }) =>
      params.now - context.badFrameWindowStart <= context.badFrames.windowMs &&
      context.badFrameCount + 1 > context.badFrames.max,
  },
  actions: {
    // Default inbound behaviour (the seed's relay): every message to every other client.
    handleMessage: sendParent((_, params: { id: string; data: Buffer; binary: boolean }) => ({
      type: 'hub.broadcast' as const,
      data: params.data,
      binary: params.binary,
      except: params.id,
    })),
    // From here on the writer reports to this actor: client.socketMessage, client.socketClosed, ...
    startWriter: ({ context, self }) => context.writer.start(self),
    closeSocket: ({ context }, params: { code: number; reason: string }) =>
      context.writer.send({ type: 'writer.close', code: params.code, reason: params.reason }),
    terminateSocket: ({ context }) => context.writer.send({ type: 'writer.terminate' }),
    reply: ({ context }, params: { frame: Frame }) =>
      context.writer.send({ type: 'writer.deliver', frame: params.frame }),
    // The writer owns the expiry timer (one per client with a token, cleared with the socket): this moves it.
    setExpiry: ({ context }, params: { at: number | undefined }) =>
      context.writer.send({ type: 'writer.expireAt', at: params.at }),
    grantTopics: assign((_, params: { topics: TopicGrant | undefined }) => ({ topics: params.topics })),
    countBadFrame: assign(({ context }, params: { now: number }) =>
      params.now - context.badFrameWindowStart > context.badFrames.windowMs
        ? { badFrameCount: 1, badFrameWindowStart: params.now }
        : { badFrameCount: context.badFrameCount + 1 },
    ),
    // The client's own departure, to the hub's departure queue, which hands the hub every
    // departure of an event-loop turn in one event (one hub step for a mass disconnect). Not a
    // final state: its done event (xstate.done.actor.<id>) has a new type per client, and XState
    // memoises transition candidates per event type on the hub's state nodes (~400 B per client ever seen).
    reportClosed: ({ context, self }) => context.departures.send({ type: 'departures.add', id: context.id, ref: self }),
  },
}).createMachine({
  id: 'client',
  // Spelled out rather than spread from input: one fixed shape for every client, built faster.
  context: ({ input }) => ({
    id: input.id,
    meta: input.meta,
    topics: input.topics,
    writer: input.writer,
    limits: input.limits,
    badFrames: input.badFrames,
    departures: input.departures,
    badFrameCount: 0,
    badFrameWindowStart: 0,
  }),
  entry: 'startWriter',
  initial: 'open',
  states: {
    open: {
      on: {
        'client.socketMessage': {
          actions: {
            type: 'handleMessage',
            params: ({ context, event }) => ({ id: context.id, data: event.data, binary: event.binary }),
          },
        },
        'client.close': {
          target: 'closing',
          actions: {
            type: 'closeSocket',
            params: ({ event }) => ({ code: event.code, reason: event.reason }),
          },
        },
        'client.terminate': { target: 'closing', actions: 'terminateSocket' },
        'client.reply': { actions: { type: 'reply', params: ({ event }) => event } },
        'client.badFrame': [
          {
            guard: { type: 'isLastStraw', params: ({ event }) => event },
            target: 'closing',
            actions: { type: 'closeSocket', params: { code: 1008, reason: 'too many bad frames' } },
          },
          { actions: { type: 'countBadFrame', params: ({ event }) => event } },
        ],
        // The hub is draining: the same close as client.close, told apart so that a viewer sees why.
        'client.shutdown': {
          target: 'closing',
          actions: {
            type: 'closeSocket',
            params: ({ event }) => ({ code: event.code, reason: event.reason }),
          },
        },
        // The writer has already closed (overflow, rate limit) or terminated (silent peer) the
        // socket on the wire; the machine records the decision, with its code and reason.
        'client.overflowed': { target: 'closing' },
        'client.timedOut': { target: 'closing' },
        'client.rateLimited': { target: 'closing' },
        'client.tokenExpired': { target: 'closing' },
        // A refresh verified a new token: a new expiry for the writer, new topics for the protocol.
        'client.refreshed': {
          actions: [
            { type: 'setExpiry', params: ({ event }) => ({ at: event.expiresAt }) },
            { type: 'grantTopics', params: ({ event }) => ({ topics: event.topics }) },
          ],
        },
        // An abrupt end (or the peer's own close). Why it closed stays in this event (and in the
        // disconnect log): no context copy per close.
        'client.socketClosed': { target: 'closed' },
      },
    },
    closing: {
      on: {
        'client.terminate': { actions: 'terminateSocket' },
        // Already closing (the hub, the writer or the peer decided first): the close under way stands.
        'client.close': {},
        'client.shutdown': {},
        'client.socketClosed': { target: 'closed' },
      },
    },
    // The socket is gone. The hub, told through its departure queue, removes this client and stops it.
    closed: { entry: 'reportClosed' },
  },
});

export type ClientMachine = typeof clientMachine;
