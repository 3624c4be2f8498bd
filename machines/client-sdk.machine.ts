import { type AnyActorRef, assign, setup, spawnChild, stopChild } from 'xstate';
import {
  subscriptionActorId,
  type SdkConnectionContext,
  type SdkConnectionEvent,
  type SdkConnectionInput,
  type SdkSubscriptionContext,
  type SdkSubscriptionEvent,
  type SdkSubscriptionInput,
  type SubscribeAck,
} from './client-sdk.types.js';

/** connection.addSubscription / removeSubscription name their subscription by topic; other events name none. */
const topicOf = (event: SdkConnectionEvent): string => ('topic' in event ? event.topic : '');

const tellSubscriptions = (self: AnyActorRef, event: SdkSubscriptionEvent): void => {
  for (const child of Object.values(self.getSnapshot().children as Record<string, AnyActorRef>)) child.send(event);
};

/**
 * One subscription of the client SDK (`client.subscribe(topic, …)`), a child of the connection
 * actor. Its state is its own: `subscribing` until the hub acks (again after every reconnect,
 * since a new connection starts with no memberships), `subscribed`, `failed` when the hub refused
 * it (a refusal is not retried: the same command would be refused again), `unsubscribed` at the end.
 */
export const sdkSubscriptionMachine = setup({
  types: {
    context: {} as SdkSubscriptionContext,
    input: {} as SdkSubscriptionInput,
    events: {} as SdkSubscriptionEvent,
  },
  guards: {
    startsConnected: ({ context }) => context.startsConnected,
  },
  actions: {
    /** Sends `subscribe` with `since` from the last delivered position (src/client/). */
    sendSubscribe: (_, _params: { topic: string }) => {},
    /** Records the position the ack carries; a `recovered: false` becomes the `gap` event. */
    acknowledged: (_, _params: { topic: string } & SubscribeAck) => {},
    /** Sends `unsubscribe` when connected (a dropped connection has already forgotten it). */
    sendUnsubscribe: (_, _params: { topic: string }) => {},
    recordError: assign((_, params: { code: string; message: string }) => ({ error: params })),
  },
}).createMachine({
  id: 'sdk-subscription',
  context: ({ input }) => ({ topic: input.topic, startsConnected: input.connected, error: undefined }),
  initial: 'starting',
  states: {
    // Created while connected: subscribe now; otherwise wait for the connection to be ready.
    starting: {
      always: [
        {
          guard: 'startsConnected',
          target: 'subscribing',
          actions: { type: 'sendSubscribe', params: ({ context }) => ({ topic: context.topic }) },
        },
        { target: 'subscribing' },
      ],
    },
    subscribing: {
      on: {
        'subscription.connected': {
          actions: { type: 'sendSubscribe', params: ({ context }) => ({ topic: context.topic }) },
        },
        'subscription.ack': {
          target: 'subscribed',
          actions: {
            type: 'acknowledged',
            params: ({ context, event }) => ({
              topic: context.topic,
              result: event.result,
              recovered: event.recovered,
            }),
          },
        },
        'subscription.error': {
          target: 'failed',
          actions: { type: 'recordError', params: ({ event }) => ({ code: event.code, message: event.message }) },
        },
        // A subscribe sent and not acked is simply sent again on the next connection: it is idempotent.
        'subscription.disconnected': {},
      },
    },
    subscribed: {
      on: {
        'subscription.disconnected': { target: 'subscribing' },
      },
    },
    failed: {},
    unsubscribed: { type: 'final' },
  },
  on: {
    'subscription.unsubscribe': {
      target: '.unsubscribed',
      actions: { type: 'sendUnsubscribe', params: ({ context }) => ({ topic: context.topic }) },
    },
  },
});

/**
 * The client SDK's connection (`createClient()`): `connecting` until the first `welcome`,
 * `connected` (pinging when quiet, so a half-open connection is noticed), `reconnecting` with
 * exponential backoff and full jitter after any loss, `closed` for good after `client.close()`
 * or a close code that retrying cannot fix. Subscriptions are its children: told when the
 * connection is ready (resubscribe) and when it is lost.
 */
export const sdkConnectionMachine = setup({
  types: {
    context: {} as SdkConnectionContext,
    input: {} as SdkConnectionInput,
    events: {} as SdkConnectionEvent,
  },
  actors: { subscription: sdkSubscriptionMachine },
  delays: {
    backoff: ({ context }) => context.delayMs,
    connectTimeout: ({ context }) => context.connectTimeoutMs,
    pingInterval: ({ context }) => context.pingIntervalMs,
    pongTimeout: ({ context }) => context.pongTimeoutMs,
    stableAfter: ({ context }) => context.reconnect.stableAfterMs,
  },
  guards: {
    /** Retrying cannot help: the close code says so, or reconnecting is off. */
    isFinal: ({ context }, params: { code: number }) =>
      !context.reconnect.enabled || context.terminalCodes.includes(params.code),
    pingEnabled: ({ context }) => context.pingIntervalMs > 0,
  },
  actions: {
    /** Opens a new socket (fetching the token first); the previous one, if any, is already dropped. */
    openSocket: () => {},
    /** Abandons the current socket at once (a silent peer or a stuck handshake): its later events are ignored. */
    dropSocket: () => {},
    /** Closes the socket with 1000: client.close(). */
    closeSocket: () => {},
    sendPing: () => {},
    /** Sends the commands that waited in the offline queue. */
    flushQueue: () => {},
    /** Rejects every command sent and not yet acked with `disconnected`: never resent (it could duplicate a publish). */
    failInFlight: () => {},
    /** Rejects whatever still waits (queue, in flight) with `closed`. */
    failAll: () => {},
    // Full jitter (AWS's "Exponential Backoff and Jitter"): a restarted node's clients spread over
    // the whole window instead of arriving in waves. Each wait is one more attempt: a connection
    // that is welcomed and dropped at once keeps backing off; only a stable one resets it.
    chooseDelay: assign(({ context }) => ({
      delayMs: Math.floor(
        context.random() *
          Math.min(context.reconnect.maxDelayMs, context.reconnect.minDelayMs * 2 ** Math.min(context.attempt, 30)),
      ),
      attempt: context.attempt + 1,
    })),
    resetAttempts: assign({ attempt: 0 }),
    recordWelcome: assign((_, params: { id: string }) => ({ id: params.id, lastClose: undefined })),
    recordClose: assign((_, params: { code: number; reason: string }) => ({ lastClose: params })),
    markTerminal: assign({ terminal: true }),
    addSubscription: spawnChild('subscription', {
      id: ({ event }) => subscriptionActorId(topicOf(event)),
      input: ({ event }) => ({ topic: topicOf(event), connected: false }),
    }),
    /** While connected: the new subscription subscribes at once. */
    addLiveSubscription: spawnChild('subscription', {
      id: ({ event }) => subscriptionActorId(topicOf(event)),
      input: ({ event }) => ({ topic: topicOf(event), connected: true }),
    }),
    removeSubscription: stopChild(({ event }) => subscriptionActorId(topicOf(event))),
    // Plain ref.send loops (as the hub broadcasts): the children are this actor's own, a handful.
    /** Every subscription: resubscribe now. */
    announceReady: ({ self }) => tellSubscriptions(self, { type: 'subscription.connected' }),
    announceLost: ({ self }) => tellSubscriptions(self, { type: 'subscription.disconnected' }),
  },
}).createMachine({
  id: 'sdk-connection',
  context: ({ input }) => ({ ...input, attempt: 0, delayMs: 0, id: undefined, lastClose: undefined, terminal: false }),
  initial: 'connecting',
  states: {
    connecting: {
      entry: 'openSocket',
      after: { connectTimeout: { target: 'reconnecting', actions: 'dropSocket' } },
      on: {
        'connection.welcome': {
          target: 'connected',
          actions: { type: 'recordWelcome', params: ({ event }) => ({ id: event.id }) },
        },
        'connection.socketClosed': [
          {
            guard: { type: 'isFinal', params: ({ event }) => ({ code: event.code }) },
            target: 'closed',
            actions: [
              { type: 'recordClose', params: ({ event }) => ({ code: event.code, reason: event.reason }) },
              'markTerminal',
            ],
          },
          {
            target: 'reconnecting',
            actions: { type: 'recordClose', params: ({ event }) => ({ code: event.code, reason: event.reason }) },
          },
        ],
        'connection.addSubscription': { actions: 'addSubscription' },
      },
    },
    connected: {
      entry: ['announceReady', 'flushQueue'],
      exit: ['failInFlight', 'announceLost'],
      initial: 'quiet',
      after: { stableAfter: { actions: 'resetAttempts' } },
      states: {
        quiet: {
          after: { pingInterval: { guard: 'pingEnabled', target: 'pinging' } },
        },
        pinging: {
          entry: 'sendPing',
          on: { 'connection.pong': { target: 'quiet' } },
          after: {
            pongTimeout: {
              target: '#sdk-connection.reconnecting',
              actions: ['dropSocket', { type: 'recordClose', params: { code: 1006, reason: 'no pong' } }],
            },
          },
        },
      },
      on: {
        'connection.socketClosed': [
          {
            guard: { type: 'isFinal', params: ({ event }) => ({ code: event.code }) },
            target: 'closed',
            actions: [
              { type: 'recordClose', params: ({ event }) => ({ code: event.code, reason: event.reason }) },
              'markTerminal',
            ],
          },
          {
            target: 'reconnecting',
            actions: { type: 'recordClose', params: ({ event }) => ({ code: event.code, reason: event.reason }) },
          },
        ],
        'connection.addSubscription': { actions: 'addLiveSubscription' },
      },
    },
    reconnecting: {
      initial: 'waiting',
      states: {
        waiting: {
          entry: 'chooseDelay',
          after: { backoff: { target: 'opening' } },
        },
        opening: {
          entry: 'openSocket',
          after: { connectTimeout: { target: 'waiting', actions: 'dropSocket' } },
          on: {
            'connection.welcome': {
              target: '#sdk-connection.connected',
              actions: { type: 'recordWelcome', params: ({ event }) => ({ id: event.id }) },
            },
            'connection.socketClosed': [
              {
                guard: { type: 'isFinal', params: ({ event }) => ({ code: event.code }) },
                target: '#sdk-connection.closed',
                actions: [
                  { type: 'recordClose', params: ({ event }) => ({ code: event.code, reason: event.reason }) },
                  'markTerminal',
                ],
              },
              {
                target: 'waiting',
                actions: { type: 'recordClose', params: ({ event }) => ({ code: event.code, reason: event.reason }) },
              },
            ],
          },
        },
      },
      on: { 'connection.addSubscription': { actions: 'addSubscription' } },
    },
    // Final: the subscriptions (children) stop with it.
    closed: { type: 'final', entry: 'failAll' },
  },
  on: {
    'connection.close': { target: '.closed', actions: 'closeSocket' },
    'connection.removeSubscription': { actions: 'removeSubscription' },
  },
});

export type SdkConnectionMachine = typeof sdkConnectionMachine;
export type SdkSubscriptionMachine = typeof sdkSubscriptionMachine;
