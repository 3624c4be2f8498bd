import { createActor, type Actor, type AnyActorRef, type InspectionEvent, type Observer } from 'xstate';
import {
  sdkConnectionMachine,
  sdkSubscriptionMachine,
  type SdkConnectionMachine,
} from '../../machines/client-sdk.machine.js';
import { subscriptionActorId, type CloseInfo, type SubscribeAck } from '../../machines/client-sdk.types.js';
import {
  CLIENT_ACK_TIMEOUT_MS,
  CLIENT_CONNECT_FAILURES_REPORTED,
  CLIENT_CONNECT_TIMEOUT_MS,
  CLIENT_MAX_PRESENCE_MEMBERS,
  CLIENT_MAX_QUEUED_COMMANDS,
  CLIENT_PING_INTERVAL_MS,
  CLIENT_PONG_TIMEOUT_MS,
  CLIENT_RECONNECT_MAX_DELAY_MS,
  CLIENT_RECONNECT_MIN_DELAY_MS,
  CLIENT_STABLE_AFTER_MS,
} from '../limits.js';
import { Emitter } from './emitter.js';
import { ClientError, ClientErrorCode, TERMINAL_CLOSE_CODES } from './errors.js';
import { PositionTracker, type GapInfo, type Position } from './position.js';
import { validate, type StandardSchemaV1 } from './standard-schema.js';

export type { GapInfo, Position };

/** What the SDK needs of a WebSocket: the browser's, Node 22's global one and `ws`'s all have it. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  /** `ws` only: destroys the socket without a closing handshake (a half-open peer would never answer one). */
  terminate?: () => void;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `ws`'s `WebSocket` on Node 20. */
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => unknown;

export type ClientState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

/** Why the state changed: the last close (absent before any), and whether it stops reconnects. */
export interface StateDetail {
  readonly code?: number;
  readonly reason?: string;
  /** True when the client is closed because retrying cannot help (a terminal close code). */
  readonly terminal: boolean;
  /** Failed attempts since the last stable connection. */
  readonly attempt: number;
}

export interface ClientOptions {
  /** A WebSocket constructor; the global one by default (pass `ws`'s on Node 20). */
  readonly WebSocket?: WebSocketConstructor;
  /** Sent as the `bearer.<token>` subprotocol; a function is called again on every connect. */
  readonly token?: string | (() => string | Promise<string>);
  /** Backoff between attempts (full jitter), reset after a connection stable for stableAfterMs; `false`: never reconnect. */
  readonly reconnect?:
    false | { readonly minDelayMs?: number; readonly maxDelayMs?: number; readonly stableAfterMs?: number };
  /** Ping (the protocol's `ping`) this long after connecting or after the last pong; 0 = never. */
  readonly pingIntervalMs?: number;
  /** A ping unanswered this long: the connection is dead (half-open), dropped and reconnected. */
  readonly pongTimeoutMs?: number;
  /** A command not answered within this rejects with `timeout` (time spent in the offline queue included). */
  readonly ackTimeoutMs?: number;
  /** Open + `welcome` within this, or the attempt fails. */
  readonly connectTimeoutMs?: number;
  /** Commands held while disconnected; more reject at once with `queue_full`. */
  readonly maxQueuedCommands?: number;
  /** Members a `presence: true` subscription fetches into `sub.presence`, page after page (default 1000). */
  readonly maxPresenceMembers?: number;
  /** Close codes that stop reconnects (TERMINAL_CLOSE_CODES by default). */
  readonly terminalCloseCodes?: readonly number[];
  /** XState's inspect option for the connection actor and its subscriptions (e.g. @statelyai/inspect's). */
  readonly inspect?: Observer<InspectionEvent> | ((event: InspectionEvent) => void);
}

/** Where a message came from: its topic (publishes), its sender, its position in the topic's history. */
export interface MessageInfo {
  readonly topic?: string;
  readonly from?: string;
  readonly offset?: number;
}

export interface Member {
  readonly id: string;
  readonly meta?: unknown;
}

export interface SubscribeOptions<T = unknown> {
  /** Resubscribe with `since` from the last delivered position (default true); a hub without history ignores it. */
  readonly recover?: boolean;
  /** Validates each message's `data`; failures go to the `invalid` event, not the handler. */
  readonly schema?: StandardSchemaV1<unknown, T>;
  /**
   * Keep `sub.presence` current: fetched after every (re)subscribe, following the hub's pages up to
   * `maxPresenceMembers`, then updated by joined/left (needs presence events on the hub).
   */
  readonly presence?: boolean;
}

export type SubscriptionState = 'subscribing' | 'subscribed' | 'failed' | 'unsubscribed';

/** The events of a subscription: `sub.on(name, listener)`. */
export type SubscriptionEvents = {
  state: (state: SubscriptionState) => void;
  /**
   * Messages were missed and will not come: recovery was impossible (`recovered: false`), the
   * stream's epoch changed while connected, or live messages were lost (docs/client.md). Refetch your state.
   */
  gap: (info: GapInfo) => void;
  /** A resubscribe with `since` was honoured (`recovered: true`): what was missed after `from` is replayed next. */
  recovered: (info: { readonly from: Position }) => void;
  /** `data` did not match the subscription's schema. */
  invalid: (data: unknown, issues: readonly StandardSchemaV1.Issue[], info: MessageInfo) => void;
  presence: (members: readonly Member[]) => void;
};

/** The events of the client: `client.on(name, listener)`. */
export type ClientEvents = {
  state: (state: ClientState, detail: StateDetail) => void;
  /** Direct sends, broadcasts, and publishes to topics without a subscription here. */
  message: (data: unknown, info: MessageInfo) => void;
  /**
   * Errors not tied to a command: an `error` frame without ref (rate_limited…), a throwing
   * handler, a frame that is not JSON, a failing token function, attempts that cannot connect.
   */
  error: (error: ClientError) => void;
};

export type MessageHandler<T> = (data: T, info: MessageInfo) => void;

export interface PublishResult {
  /** Recipients on the hub this client is connected to. */
  readonly delivered?: number;
  /** Members on other nodes of a cluster the message went to the broker for (docs/scaling.md). */
  readonly forwarded?: number;
  /** The message's offset, when the topic keeps history. */
  readonly offset?: number;
  readonly [key: string]: unknown;
}

export interface PresenceResult {
  readonly topic: string;
  readonly members: readonly Member[];
  /** Every member, across the cluster (hubs that page presence). */
  readonly total?: number;
  /** There are more: ask again with it. */
  readonly cursor?: string;
}

export interface HistoryResult {
  readonly epoch: string;
  readonly offset: number;
  readonly messages: readonly { readonly offset: number; readonly from?: string; readonly data: unknown }[];
}

interface Command {
  /** The frame's JSON without its ref (serialised once, when issued: data with no JSON form rejects then). */
  readonly json: string;
  /** A publish: its topic and whether it echoes (its answer moves that topic's position). */
  readonly publish: { readonly topic: string; readonly echo: boolean } | undefined;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: ClientError) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** A publish's number when sent (PositionTracker's `until`). */
  seq: number;
}

type Pending =
  | { readonly kind: 'command'; readonly command: Command }
  | { readonly kind: 'subscribe'; readonly sub: SubscriptionImpl<unknown> }
  | { readonly kind: 'ping' }
  | { readonly kind: 'ignore' };

const OPEN = 1;
const isThenable = <T>(v: unknown): v is PromiseLike<T> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
const utf8 = new TextEncoder();

/** A live subscription: its handler, its state, its position in the topic's history. */
export interface Subscription<T = unknown> {
  readonly topic: string;
  readonly state: SubscriptionState;
  /** Why it failed (the hub's error code and message). */
  readonly error: { readonly code: string; readonly message: string } | undefined;
  /**
   * When the topic keeps history: the offset up to which every message was delivered, or is
   * known not to come (own publishes without echo, a `gap`).
   */
  readonly position: Position | undefined;
  /** The topic's members, with `presence: true` (at most `maxPresenceMembers` of them). */
  readonly presence: readonly Member[];
  /**
   * How many members the topic has, across the cluster, with `presence: true`: the hub's `total`
   * from the last page fetched, then moved by joined/left. More than `presence.length` when the
   * topic has more than `maxPresenceMembers`. Undefined until the first fetch answers.
   */
  readonly presenceTotal: number | undefined;
  on<K extends keyof SubscriptionEvents>(event: K, listener: SubscriptionEvents[K]): () => void;
  unsubscribe(): void;
  /** The type of `data` the handler receives (never set: for inference only). */
  readonly __type?: T;
}

/** What a subscription needs of the client that made it (kept off the client's public surface). */
interface SubscriptionHost {
  reportError(err: unknown): void;
  remove(sub: SubscriptionImpl<unknown>): void;
  inFlight(topic: string): readonly [count: number, lastSeq: number];
}

class SubscriptionImpl<T> implements Subscription<T> {
  state: SubscriptionState = 'subscribing';
  error: { code: string; message: string } | undefined;
  readonly track: PositionTracker;
  presence: readonly Member[] = [];
  presenceTotal: number | undefined;
  /** Bumped by every presence fetch: the pages of an older one are ignored. */
  presenceFetch = 0;
  /** While a fetch follows its pages: the members so far, joined/left in between applied. */
  presencePaging: Map<string, Member> | undefined;
  /** The `since` of the subscribe in flight (undefined: none was sent). */
  sinceSent: Position | undefined;
  /** Deliveries waiting on an asynchronous schema, in order. */
  tail: Promise<void> | undefined;
  readonly events: Emitter<SubscriptionEvents>;
  actor: AnyActorRef | undefined;

  constructor(
    readonly topic: string,
    readonly handler: MessageHandler<T>,
    readonly options: SubscribeOptions<T>,
    private readonly host: SubscriptionHost,
  ) {
    this.events = new Emitter((err) => host.reportError(err));
    this.track = new PositionTracker(
      () => host.inFlight(topic),
      (gap) => this.events.emit('gap', gap),
    );
  }

  get position(): Position | undefined {
    return this.track.position;
  }

  on<K extends keyof SubscriptionEvents>(event: K, listener: SubscriptionEvents[K]): () => void {
    return this.events.on(event, listener);
  }

  unsubscribe(): void {
    this.host.remove(this as SubscriptionImpl<unknown>);
  }

  setState(state: SubscriptionState): void {
    if (state === this.state) return;
    this.state = state;
    this.events.emit('state', state);
  }
}

/**
 * The client: one connection actor (machines/client-sdk.machine.ts) and its subscription
 * children; this class provides their effects (the socket, the command queue, the handlers).
 */
export class HubClient {
  private readonly actor: Actor<typeof sdkConnectionMachine>;
  private readonly events = new Emitter<Omit<ClientEvents, 'error'>>((err) => this.reportError(err));
  private readonly host: SubscriptionHost = {
    reportError: (err) => this.reportError(err),
    remove: (sub) => this.removeSubscription(sub),
    inFlight: (topic) => [this.publishing.get(topic) ?? 0, this.seq],
  };
  /** Its own emitter, whose throwing listeners are ignored: reporting them would loop. */
  private readonly errors = new Emitter<Pick<ClientEvents, 'error'>>();
  private readonly subs = new Map<string, SubscriptionImpl<unknown>>();
  private readonly pending = new Map<number, Pending>();
  private readonly queue: Command[] = [];
  /** Own publishes sent and unanswered, by topic: they may fill holes in its position. */
  private readonly publishing = new Map<string, number>();
  /** Numbers the publishes sent. */
  private seq = 0;
  private readonly WebSocketImpl: WebSocketConstructor;
  private readonly ackTimeoutMs: number;
  private readonly maxQueued: number;
  private readonly maxPresenceMembers: number;
  private socket: WebSocketLike | undefined;
  /** Bumped for every socket: events of an abandoned socket are ignored. */
  private generation = 0;
  private nextRef = 1;
  private live = false;
  private maxPayload = Number.POSITIVE_INFINITY;
  private lastState: ClientState = 'connecting';
  /** Attempts in a row whose socket never opened. */
  private failedOpens = 0;

  constructor(
    readonly url: string,
    private readonly options: ClientOptions = {},
  ) {
    const parsed = new URL(url);
    if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:')
      throw new TypeError(`createClient: expected a ws:// or wss:// URL, got ${url}`);
    const Impl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl)
      throw new TypeError("createClient: no global WebSocket (Node 20): pass { WebSocket } from the 'ws' package");
    this.WebSocketImpl = Impl;
    this.ackTimeoutMs = options.ackTimeoutMs ?? CLIENT_ACK_TIMEOUT_MS;
    this.maxQueued = options.maxQueuedCommands ?? CLIENT_MAX_QUEUED_COMMANDS;
    this.maxPresenceMembers = Math.max(1, Math.floor(options.maxPresenceMembers ?? CLIENT_MAX_PRESENCE_MEMBERS));
    const reconnect = options.reconnect === false ? undefined : (options.reconnect ?? {});
    const machine = sdkConnectionMachine.provide({
      actions: {
        openSocket: () => this.openSocket(),
        dropSocket: () => this.dropSocket(),
        closeSocket: () => this.closeSocket(),
        sendPing: () => this.transmit({ type: 'ping' }, { kind: 'ping' }),
        flushQueue: () => this.flushQueue(),
        failInFlight: () => this.failInFlight(),
        failAll: () => this.failAll(),
      },
      actors: {
        subscription: sdkSubscriptionMachine.provide({
          actions: {
            sendSubscribe: (_, { topic }) => this.sendSubscribe(topic),
            acknowledged: (_, params) => this.acknowledged(params.topic, params),
            sendUnsubscribe: (_, { topic }) => {
              if (this.live) this.transmit({ type: 'unsubscribe', topic }, { kind: 'ignore' });
            },
          },
        }),
      },
    });
    this.actor = createActor(machine, {
      input: {
        reconnect: {
          enabled: reconnect !== undefined,
          minDelayMs: reconnect?.minDelayMs ?? CLIENT_RECONNECT_MIN_DELAY_MS,
          maxDelayMs: reconnect?.maxDelayMs ?? CLIENT_RECONNECT_MAX_DELAY_MS,
          stableAfterMs: reconnect?.stableAfterMs ?? CLIENT_STABLE_AFTER_MS,
        },
        pingIntervalMs: options.pingIntervalMs ?? CLIENT_PING_INTERVAL_MS,
        pongTimeoutMs: options.pongTimeoutMs ?? CLIENT_PONG_TIMEOUT_MS,
        connectTimeoutMs: options.connectTimeoutMs ?? CLIENT_CONNECT_TIMEOUT_MS,
        terminalCodes: options.terminalCloseCodes ?? TERMINAL_CLOSE_CODES,
        random: Math.random,
      },
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    this.actor.subscribe((snapshot) => {
      const value = snapshot.value;
      const state = (typeof value === 'string' ? value : Object.keys(value)[0]) as ClientState;
      if (state === this.lastState) return;
      this.lastState = state;
      const { lastClose, terminal, attempt } = snapshot.context;
      this.events.emit('state', state, { ...lastClose, terminal, attempt });
    });
    this.actor.start();
  }

  /** 'connecting' (first attempt) | 'connected' (welcomed) | 'reconnecting' | 'closed'. */
  get state(): ClientState {
    return this.lastState;
  }

  /** The id the hub gave this client in its last `welcome`. */
  get id(): string | undefined {
    return this.actor.getSnapshot().context.id;
  }

  /** Why the last connection ended. */
  get lastClose(): CloseInfo | undefined {
    return this.actor.getSnapshot().context.lastClose;
  }

  /** The connection actor (its children are the subscriptions): for tests, inspection, `.subscribe()`. */
  get machine(): Actor<SdkConnectionMachine> {
    return this.actor;
  }

  on<K extends keyof ClientEvents>(event: K, listener: ClientEvents[K]): () => void {
    if (event === 'error') return this.errors.on('error', listener as ClientEvents['error']);
    return this.events.on(event as Exclude<K, 'error'>, listener as ClientEvents[Exclude<K, 'error'>]);
  }

  subscribe<S extends StandardSchemaV1>(
    topic: string,
    handler: MessageHandler<StandardSchemaV1.InferOutput<S>>,
    options: SubscribeOptions<StandardSchemaV1.InferOutput<S>> & { readonly schema: S },
  ): Subscription<StandardSchemaV1.InferOutput<S>>;
  subscribe<T = unknown>(topic: string, handler: MessageHandler<T>, options?: SubscribeOptions<T>): Subscription<T>;
  subscribe<T>(topic: string, handler: MessageHandler<T>, options: SubscribeOptions<T> = {}): Subscription<T> {
    if (this.lastState === 'closed') throw new ClientError(ClientErrorCode.Closed, 'the client is closed');
    if (this.subs.has(topic))
      throw new ClientError(ClientErrorCode.AlreadySubscribed, `already subscribed to "${topic}"`);
    const sub = new SubscriptionImpl<T>(topic, handler, options, this.host);
    this.subs.set(topic, sub as SubscriptionImpl<unknown>);
    this.actor.send({ type: 'connection.addSubscription', topic });
    const ref = this.actor.getSnapshot().children[subscriptionActorId(topic)] as AnyActorRef | undefined;
    sub.actor = ref;
    ref?.subscribe((snapshot: { value: string }) => {
      const v = snapshot.value;
      sub.setState(v === 'starting' ? 'subscribing' : (v as SubscriptionState));
    });
    const now = ref?.getSnapshot() as { value: string } | undefined;
    if (now && now.value !== 'starting') sub.state = now.value as SubscriptionState;
    return sub;
  }

  /** Publishes to a topic; resolves with the ack's result ({ delivered, offset? }). */
  publish<T = unknown>(topic: string, data: T, options: { readonly echo?: boolean } = {}): Promise<PublishResult> {
    const echo = options.echo === true;
    const frame = { type: 'publish', topic, data, ...(echo ? { echo } : {}) };
    return this.request(frame, { topic, echo }).then((result) => (result ?? {}) as PublishResult);
  }

  /** Sends `data` to one client; resolves with { delivered, forwarded } (forwarded: 1 when it is on another node). */
  send<T = unknown>(to: string, data: T): Promise<{ readonly delivered?: number; readonly forwarded?: number }> {
    return this.request({ type: 'send', to, data }) as Promise<{ delivered?: number; forwarded?: number }>;
  }

  /**
   * Who is in a topic: one page of at most `limit` members (the hub caps it), in id order after
   * `cursor`; an answer with a `cursor` has more. `total` counts every member.
   */
  presence(
    topic: string,
    options: { readonly limit?: number; readonly cursor?: string } = {},
  ): Promise<PresenceResult> {
    return this.request({ type: 'presence', topic, ...options }) as Promise<PresenceResult>;
  }

  /**
   * Hands the hub a new token before the current one expires (docs/protocol.md#refresh): resolves
   * with its `exp` (seconds; null: it never expires), rejects with `invalid_token`. Without it the
   * hub closes the connection with 4001 at expiry and the client reconnects, calling `token` again.
   */
  refresh(token: string): Promise<{ readonly exp: number | null }> {
    return this.request({ type: 'refresh', token }) as Promise<{ exp: number | null }>;
  }

  /** A topic's stored messages (docs/protocol.md): the newest `limit`, or the oldest `limit` after `since`. */
  history(topic: string, options: { readonly limit?: number; readonly since?: Position } = {}): Promise<HistoryResult> {
    return this.request({ type: 'history', topic, ...options }) as Promise<HistoryResult>;
  }

  /** Closes for good: state 'closed', no more reconnects; whatever waits rejects with `closed`. */
  close(): void {
    // Closing a client that has already ended (closed, or a terminal refusal) is a no-op, not
    // an event sent to a stopped actor.
    if (this.actor.getSnapshot().status !== 'active') return;
    this.actor.send({ type: 'connection.close' });
  }

  // ---- the machine's effects -------------------------------------------------------------

  private openSocket(): void {
    const generation = ++this.generation;
    const token = this.options.token;
    if (typeof token === 'function') {
      Promise.resolve()
        .then(token)
        .then(
          (t) => this.connect(generation, t),
          (err: unknown) => {
            if (generation !== this.generation) return;
            this.reportError(new ClientError(ClientErrorCode.TokenFailed, 'the token function failed', { cause: err }));
            this.actor.send({ type: 'connection.socketClosed', code: 1006, reason: 'token function failed' });
          },
        );
    } else this.connect(generation, token);
  }

  private connect(generation: number, token: string | undefined): void {
    if (generation !== this.generation) return;
    const protocols = token ? ['actorhub', `bearer.${token}`] : ['actorhub'];
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketImpl(this.url, protocols) as WebSocketLike;
    } catch (err) {
      // E.g. a token with characters a subprotocol may not carry: this attempt fails, the backoff goes on.
      this.reportError(new ClientError(ClientErrorCode.ConnectFailed, String(err), { cause: err }));
      queueMicrotask(() => {
        if (generation === this.generation)
          this.actor.send({ type: 'connection.socketClosed', code: 1006, reason: String(err) });
      });
      return;
    }
    this.socket = socket;
    let refusal: number | undefined;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.failedOpens = 0;
    };
    socket.onmessage = (event) => {
      if (generation === this.generation) this.onFrame(event.data);
    };
    socket.onerror = (event) => {
      // `ws` tells a refused handshake's status ("Unexpected server response: 401"); browsers do not.
      const m = /Unexpected server response: (\d+)/.exec(String((event as { message?: unknown })?.message ?? ''));
      if (m) refusal = Number(m[1]);
    };
    socket.onclose = (event) => {
      if (generation !== this.generation) return;
      this.socket = undefined;
      if (!opened && ++this.failedOpens === CLIENT_CONNECT_FAILURES_REPORTED)
        this.reportError(
          new ClientError(
            ClientErrorCode.ConnectFailed,
            `${CLIENT_CONNECT_FAILURES_REPORTED} attempts in a row failed before the WebSocket opened: the hub is unreachable or refuses the handshake (a refused token looks the same in a browser); retrying with backoff`,
          ),
        );
      if (refusal === 401 || refusal === 403)
        this.actor.send({
          type: 'connection.socketClosed',
          code: 4000 + refusal,
          reason: `handshake refused: HTTP ${refusal}`,
        });
      else
        this.actor.send({
          type: 'connection.socketClosed',
          code: event.code,
          reason: refusal ? `handshake refused: HTTP ${refusal}` : event.reason,
        });
    };
  }

  /** Forgets the socket at once; its close (maybe much later, for a half-open peer) is ignored. */
  private dropSocket(): void {
    this.generation++;
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    detach(socket);
    try {
      if (socket.terminate) socket.terminate();
      else socket.close(4000, 'no answer');
    } catch {
      // A browser refuses close() in some states; the socket is forgotten either way.
    }
  }

  private closeSocket(): void {
    this.generation++;
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    detach(socket);
    try {
      socket.close(1000, 'client closed');
    } catch {
      // Already closing.
    }
  }

  private flushQueue(): void {
    this.live = true;
    // transmit checks each against this connection's maxPayload: one too large rejects alone.
    for (const command of this.queue.splice(0)) this.transmit(command.json, { kind: 'command', command });
  }

  private failInFlight(): void {
    this.live = false;
    this.publishing.clear();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      if (p.kind !== 'command') continue;
      clearTimeout(p.command.timer);
      p.command.reject(
        new ClientError(
          ClientErrorCode.Disconnected,
          'the connection dropped before the answer: the command may or may not have run, and is not resent',
        ),
      );
    }
  }

  private failAll(): void {
    this.failInFlight();
    for (const command of this.queue.splice(0)) {
      clearTimeout(command.timer);
      command.reject(new ClientError(ClientErrorCode.Closed, 'the client is closed'));
    }
    for (const sub of this.subs.values()) sub.setState('unsubscribed');
    this.subs.clear();
  }

  private sendSubscribe(topic: string): void {
    const sub = this.subs.get(topic);
    if (!sub) return;
    const since = sub.options.recover !== false ? sub.position : undefined;
    sub.sinceSent = since;
    this.transmit({ type: 'subscribe', topic, ...(since ? { since } : {}) }, { kind: 'subscribe', sub });
  }

  private acknowledged(topic: string, ack: SubscribeAck): void {
    const sub = this.subs.get(topic);
    if (!sub) return;
    const r = ack.result as { epoch?: unknown; offset?: unknown } | undefined;
    const since = sub.sinceSent;
    sub.sinceSent = undefined;
    if (r && typeof r.epoch === 'string' && typeof r.offset === 'number') {
      const top = { epoch: r.epoch, offset: r.offset };
      if (since && ack.recovered === true) {
        // The replay that follows moves the position on from `since`.
        sub.track.restart(since, true);
        sub.events.emit('recovered', { from: since });
      } else {
        sub.track.restart(top);
        if (since) sub.events.emit('gap', { from: since, to: top });
      }
    } else sub.track.restart(undefined); // the hub keeps no history for this topic
    if (sub.options.presence) this.fetchPresence(sub);
  }

  /**
   * Fills `sub.presence` after a (re)subscribe: the hub's pages, one after the other, until
   * there is no `cursor` or `maxPresenceMembers` are held. The hub answers in order on one
   * socket, so a joined/left that arrives between two pages happened after the page before it:
   * it is applied to what is held so far, and a later page (ids after the cursor) already
   * reflects it. A fetch that fails (rate_limited, disconnected…) leaves the list as it was.
   */
  private fetchPresence(sub: SubscriptionImpl<unknown>): void {
    const fetch = ++sub.presenceFetch;
    const members = new Map<string, Member>();
    sub.presencePaging = members;
    const current = () => this.subs.get(sub.topic) === sub && sub.presenceFetch === fetch;
    const page = (cursor: string | undefined): void => {
      const limit = this.maxPresenceMembers - members.size;
      this.presence(sub.topic, cursor === undefined ? { limit } : { limit, cursor }).then(
        (r) => {
          if (!current()) return;
          for (const m of r.members) if (members.size < this.maxPresenceMembers) members.set(m.id, m);
          if (r.cursor !== undefined && members.size < this.maxPresenceMembers) return page(r.cursor);
          sub.presencePaging = undefined;
          sub.presence = [...members.values()];
          sub.presenceTotal = r.total ?? members.size;
          sub.events.emit('presence', sub.presence);
        },
        () => {
          if (current()) sub.presencePaging = undefined;
        },
      );
    };
    page(undefined);
  }

  // ---- commands ----------------------------------------------------------------------------

  private request(frame: Record<string, unknown>, publish?: Command['publish']): Promise<unknown> {
    if (this.lastState === 'closed')
      return Promise.reject(new ClientError(ClientErrorCode.Closed, 'the client is closed'));
    let json: string;
    try {
      json = JSON.stringify(frame);
    } catch (err) {
      return Promise.reject(new ClientError(ClientErrorCode.EncodeFailed, String(err), { cause: err }));
    }
    return new Promise((resolve, reject) => {
      const command: Command = { json, publish, resolve, reject, timer: undefined, seq: 0 };
      if (this.live) {
        if (!this.transmit(json, { kind: 'command', command })) return;
      } else if (this.queue.length >= this.maxQueued) {
        return reject(
          new ClientError(ClientErrorCode.QueueFull, `the offline queue holds ${this.maxQueued} commands already`),
        );
      } else this.queue.push(command);
      command.timer = setTimeout(() => {
        // Queued: never sent. Sent: its ref stays pending, so a late answer still moves the
        // topic's position (a publish's offset); resolving a rejected promise is a no-op.
        const queued = this.queue.indexOf(command);
        if (queued >= 0) this.queue.splice(queued, 1);
        reject(new ClientError(ClientErrorCode.Timeout, `no answer within ${this.ackTimeoutMs} ms`));
      }, this.ackTimeoutMs);
    });
  }

  /**
   * Sends a frame (JSON of an object) with the next ref. A frame larger than the hub's
   * maxPayload (from `welcome`) is not sent: the hub would close with 1009, which ends the
   * client, so it is answered `too_large` here instead (false), whatever the frame.
   */
  private transmit(frame: Record<string, unknown> | string, pending: Pending): boolean {
    const socket = this.socket;
    const ref = this.nextRef++;
    const json = typeof frame === 'string' ? frame : JSON.stringify(frame);
    const text = `${json.slice(0, -1)},"ref":${ref}}`;
    this.pending.set(ref, pending);
    if (pending.kind === 'command' && pending.command.publish) {
      const topic = pending.command.publish.topic;
      pending.command.seq = ++this.seq;
      this.publishing.set(topic, (this.publishing.get(topic) ?? 0) + 1);
    }
    // Bytes ≥ characters, and ≤ 3 per UTF-16 unit: most frames need no encoding to be measured.
    if (text.length * 3 > this.maxPayload) {
      const size = text.length > this.maxPayload ? text.length : utf8.encode(text).byteLength;
      if (size > this.maxPayload) {
        this.pending.delete(ref);
        const message = `the frame is ${size} bytes or more; the hub accepts at most ${this.maxPayload}`;
        this.settle(pending, { type: 'error', code: ClientErrorCode.TooLarge, message });
        return false;
      }
    }
    if (socket && socket.readyState === OPEN) socket.send(text);
    // Else the socket is closing: its close event fails this command with `disconnected`.
    return true;
  }

  // ---- inbound -----------------------------------------------------------------------------

  private onFrame(raw: unknown): void {
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(String(raw)) as Record<string, unknown>;
    } catch {
      this.reportError(new ClientError(ClientErrorCode.BadFrame, 'the hub sent a frame that is not JSON'));
      return;
    }
    switch (f.type) {
      case 'welcome': {
        const limits = f.limits as { maxPayload?: unknown } | undefined;
        this.maxPayload = typeof limits?.maxPayload === 'number' ? limits.maxPayload : Number.POSITIVE_INFINITY;
        this.actor.send({ type: 'connection.welcome', id: String(f.id) });
        return;
      }
      case 'ack':
      case 'error': {
        const p = typeof f.ref === 'number' ? this.pending.get(f.ref) : undefined;
        if (p) {
          this.pending.delete(f.ref as number);
          this.settle(p, f);
        } else if (f.type === 'error') this.reportError(new ClientError(String(f.code), String(f.message)));
        return;
      }
      case 'message':
        return this.onMessage(f);
      case 'joined':
      case 'left': {
        const sub = this.subs.get(String(f.topic));
        const member = f.client as Member | undefined;
        if (!sub?.options.presence || !member) return;
        if (sub.presencePaging) {
          // A fetch is under way: its pages carry the total; keep what is held so far true.
          if (f.type === 'left') sub.presencePaging.delete(member.id);
          else if (sub.presencePaging.size < this.maxPresenceMembers) sub.presencePaging.set(member.id, member);
          return;
        }
        const known = sub.presence.some((m) => m.id === member.id);
        const others = known ? sub.presence.filter((m) => m.id !== member.id) : sub.presence;
        if (f.type === 'joined') {
          if (!known && sub.presenceTotal !== undefined) sub.presenceTotal++;
          sub.presence = known || others.length < this.maxPresenceMembers ? [...others, member] : others;
        } else {
          // An unknown member counts only when the list is short of the total (beyond maxPresenceMembers).
          if (sub.presenceTotal !== undefined && (known || sub.presenceTotal > sub.presence.length))
            sub.presenceTotal--;
          sub.presence = others;
        }
        sub.events.emit('presence', sub.presence);
        return;
      }
    }
  }

  private settle(p: Pending, f: Record<string, unknown>): void {
    const error = f.type === 'error' ? { code: String(f.code), message: String(f.message) } : undefined;
    switch (p.kind) {
      case 'ping':
        this.actor.send({ type: 'connection.pong' });
        return;
      case 'ignore':
        return;
      case 'subscribe': {
        if (this.subs.get(p.sub.topic) !== p.sub) return; // unsubscribed meanwhile
        const result = f.result as { recovered?: unknown } | undefined;
        const recovered = f.recovered ?? result?.recovered;
        p.sub.actor?.send(
          error
            ? { type: 'subscription.error', ...error }
            : {
                type: 'subscription.ack',
                result: f.result,
                recovered: typeof recovered === 'boolean' ? recovered : undefined,
              },
        );
        if (error) p.sub.error = error;
        return;
      }
      case 'command': {
        const { command } = p;
        clearTimeout(command.timer);
        if (command.publish) this.published(command, error ? undefined : (f.result as PublishResult | undefined));
        if (error) command.reject(new ClientError(error.code, error.message));
        else command.resolve(f.result);
      }
    }
  }

  /** An own publish answered: one fewer in flight; without echo, its offset is known not to come. */
  private published(command: Command, result: PublishResult | undefined): void {
    const { topic, echo } = command.publish!;
    const n = (this.publishing.get(topic) ?? 1) - 1;
    if (n > 0) this.publishing.set(topic, n);
    else this.publishing.delete(topic);
    const track = this.subs.get(topic)?.track;
    if (!track) return;
    const offset = result?.offset;
    // An ack naming another epoch (a hub that says) belongs to a stream the position is not in.
    const sameEpoch = typeof result?.epoch !== 'string' || result.epoch === track.position?.epoch;
    track.published(!echo && typeof offset === 'number' && sameEpoch ? offset : undefined, command.seq);
  }

  private onMessage(f: Record<string, unknown>): void {
    const info: MessageInfo = {
      ...(typeof f.topic === 'string' ? { topic: f.topic } : {}),
      ...(typeof f.from === 'string' ? { from: f.from } : {}),
      ...(typeof f.offset === 'number' ? { offset: f.offset } : {}),
    };
    const sub = info.topic === undefined ? undefined : this.subs.get(info.topic);
    if (!sub) {
      this.events.emit('message', f.data, info);
      return;
    }
    // Already delivered (a replay overlapping live messages) or an own publish: dropped.
    if (info.offset !== undefined && !sub.track.message(info.offset, typeof f.epoch === 'string' ? f.epoch : undefined))
      return;
    this.deliver(sub, f.data, info);
  }

  private deliver(sub: SubscriptionImpl<unknown>, data: unknown, info: MessageInfo): void {
    const schema = sub.options.schema;
    const run = (): void | Promise<void> => {
      if (!schema) return this.callHandler(sub, data, info);
      const result = validate(schema, data);
      const apply = (r: StandardSchemaV1.Result<unknown>): void => {
        if (r.issues) sub.events.emit('invalid', data, r.issues, info);
        else this.callHandler(sub, r.value, info);
      };
      return isThenable<StandardSchemaV1.Result<unknown>>(result) ? Promise.resolve(result).then(apply) : apply(result);
    };
    // An asynchronous schema must not reorder messages: later ones wait behind it.
    if (sub.tail) {
      const tail: Promise<void> = sub.tail.then(run).catch((err: unknown) => this.reportError(err));
      sub.tail = tail;
      void tail.then(() => {
        if (sub.tail === tail) sub.tail = undefined;
      });
      return;
    }
    const out = run();
    if (isThenable(out)) {
      const tail: Promise<void> = Promise.resolve(out).catch((err: unknown) => this.reportError(err));
      sub.tail = tail;
      void tail.then(() => {
        if (sub.tail === tail) sub.tail = undefined;
      });
    }
  }

  private callHandler(sub: SubscriptionImpl<unknown>, data: unknown, info: MessageInfo): void {
    try {
      sub.handler(data, info);
    } catch (err) {
      this.reportError(err);
    }
  }

  private reportError(err: unknown): void {
    const error =
      err instanceof ClientError
        ? err
        : new ClientError(ClientErrorCode.HandlerFailed, `a handler or listener threw: ${String(err)}`, { cause: err });
    this.errors.emit('error', error);
  }

  private removeSubscription(sub: SubscriptionImpl<unknown>): void {
    if (this.subs.get(sub.topic) !== sub) return;
    sub.actor?.send({ type: 'subscription.unsubscribe' });
    this.subs.delete(sub.topic);
    this.actor.send({ type: 'connection.removeSubscription', topic: sub.topic });
    sub.setState('unsubscribed');
  }
}

const noop = (): void => {};
/** Handlers replaced, not removed: `ws` throws an 'error' event that has no listener. */
function detach(socket: WebSocketLike): void {
  socket.onopen = noop;
  socket.onmessage = noop;
  socket.onclose = noop;
  socket.onerror = noop;
}

/** A client that connects at once, and reconnects, resubscribes and recovers by itself (docs/client.md). */
export function createClient(url: string, options: ClientOptions = {}): HubClient {
  return new HubClient(url, options);
}
