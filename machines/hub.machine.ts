import {
  assign,
  createActor,
  enqueueActions,
  fromCallback,
  setup,
  stopChild,
  type AnyEventObject,
  type EventObject,
} from 'xstate';
import type {
  ClientId,
  Departure,
  DeparturesRef,
  Frame,
  OutboundLimits,
  WriterEvent,
  WriterOwner,
} from './client.types.js';
import type {
  ClientEntry,
  ClientRef,
  HubContext,
  HubErrorCode,
  HubEvent,
  HubInput,
  HubRegisterEvent,
  Held,
  HistoryAppendResult,
  HistoryRead,
  HistoryReadResult,
  PublishOutcome,
  Ref,
  Settable,
  StreamPosition,
} from './hub.types.js';
import { presenceOf, RemoteDirectory } from './remote-directory.js';
import { TOPIC_PATTERN, TopicIndex, type Topic } from './topic-index.js';

/** Close codes the hub machine itself decides on (the full table is in docs/errors.md). */
const DUPLICATE_ID = 4009;
const TRY_AGAIN_LATER = 1013;
const GOING_AWAY = 1001;
const INTERNAL_ERROR = 1011;
const DEPARTURES = 'hub.departures';
/**
 * Clients removed in one hub step at most. Each stop is deferred to the end of the step through
 * an array XState drains with shift(), which turns O(n) past ~16k entries (docs/decisions/0001-xstate-facts.md, fact 2).
 * Kept here, not in src/limits.ts: machines/ imports nothing from src/ (CONTRIBUTING.md, "Machines and diagrams").
 */
const MAX_DEPARTURES_PER_STEP = 4096;

/** The hub's limits unless the client has its own: one shared object for every client without. */
const limitsFor = (hub: OutboundLimits, own: Settable<OutboundLimits> | undefined): OutboundLimits =>
  own === undefined || (own.maxMessages === undefined && own.maxBytes === undefined && own.policy === undefined)
    ? hub
    : {
        maxMessages: own.maxMessages ?? hub.maxMessages,
        maxBytes: own.maxBytes ?? hub.maxBytes,
        policy: own.policy ?? hub.policy,
      };

const sendToWriters = (clients: Map<ClientId, ClientEntry>, event: WriterEvent, except?: ClientId): void => {
  // A plain loop over ref.send: sendTo() defers through an O(n) queue (docs/decisions/0001-xstate-facts.md, fact 2).
  for (const [id, entry] of clients) {
    if (id !== except) entry.writer.send(event);
  }
};

/** Delivers one frame to every member of a topic but `except`; returns the recipient count. */
const sendToMembers = (context: HubContext, topic: Topic, frame: Frame, except?: ClientId): number => {
  const event: WriterEvent = { type: 'writer.deliver', frame };
  let delivered = 0;
  for (const id of context.topics.members(topic).keys()) {
    if (id === except) continue;
    context.clients.get(id)?.writer.send(event);
    delivered++;
  }
  return delivered;
};

/** sendToMembers while some members recover (cluster): their messages are held until their read answers. */
const sendToMembersHolding = (
  context: HubContext,
  topic: Topic,
  frame: Frame,
  offset: number,
  waiting: Map<ClientId, Held>,
  except?: ClientId,
): number => {
  const event: WriterEvent = { type: 'writer.deliver', frame };
  const limit = Math.max(1, context.history?.size ?? 1);
  let delivered = 0;
  for (const id of context.topics.members(topic).keys()) {
    if (id === except) continue;
    delivered++;
    const held = waiting.get(id);
    if (!held) {
      context.clients.get(id)?.writer.send(event);
      continue;
    }
    // Bounded: past the history size the oldest goes, and its offset is remembered (historyRead).
    if (held.messages.length >= limit) held.dropped = held.messages.shift()!.offset;
    held.messages.push({ offset, frame });
  }
  return delivered;
};

const deliver = (context: HubContext, id: ClientId | undefined, frame: Frame | undefined): void => {
  if (id !== undefined && frame) context.clients.get(id)?.writer.send({ type: 'writer.deliver', frame });
};

const answer = (context: HubContext, id: ClientId | undefined, ref: Ref | undefined, result: unknown = {}): void => {
  if (ref !== undefined) deliver(context, id, context.frames.ack(ref, result));
};

const refuse = (
  context: HubContext,
  id: ClientId | undefined,
  ref: Ref | undefined,
  code: HubErrorCode,
  message: string,
): void => {
  deliver(context, id, context.frames.error(ref, code, message));
};

const topicProblem = (context: HubContext, topic: Topic): string | undefined =>
  topic.length === 0 || topic.length > context.topicLimits.maxTopicLength
    ? `topic must be 1 to ${context.topicLimits.maxTopicLength} characters long`
    : TOPIC_PATTERN.test(topic)
      ? undefined
      : 'topic may only contain letters, digits and . _ : / @ -';

/**
 * What a subscriber to a history topic is told, and what it must be replayed: with `since`, every
 * kept message after it when the epoch matches and nothing after it was trimmed; otherwise
 * `recovered: false` and nothing (the client refetches its state). A replay that would not fit
 * in a client's outbound queue bytes is not attempted either: it would only overflow it.
 */
const recovery = (
  context: HubContext,
  topic: Topic,
  since: StreamPosition | undefined,
): { result: object; replay: Frame[] } => {
  const history = context.history;
  if (!history?.covers(topic)) return { result: since ? { recovered: false } : {}, replay: [] };
  if (!since) {
    const { epoch, offset } = history.position(topic);
    return { result: { epoch, offset }, replay: [] };
  }
  return recoveryFrom(context, topic, since, history.read(topic, since.offset, history.size));
};

/** The ack's result and the replay, from a read of the stream after `since` (or its position only). */
const recoveryFrom = (
  context: HubContext,
  topic: Topic,
  since: StreamPosition | undefined,
  page: HistoryRead,
): { result: object; replay: Frame[] } => {
  const { epoch, offset } = page;
  if (!since) return { result: { epoch, offset }, replay: [] };
  const recoverable = since.epoch === epoch && since.offset <= offset && since.offset >= page.first - 1;
  if (!recoverable) return { result: { epoch, offset, recovered: false }, replay: [] };
  const frames: Frame[] = [];
  let bytes = 0;
  for (const m of page.messages) {
    if (m.offset <= since.offset) continue;
    const frame = context.frames.message(m.data, false, topic, m.from, m.offset, epoch);
    bytes += frame.byteLength;
    frames.push(frame);
  }
  if (bytes > context.limits.maxBytes) return { result: { epoch, offset, recovered: false }, replay: [] };
  return { result: { epoch, offset, recovered: true }, replay: context.frames.batch?.(frames) ?? frames };
};

/**
 * Cluster: the subscriber is a member already (so this node receives the topic), but its live
 * messages are held until the read of the shared store answers (hub.history.read). The read is
 * issued only once this node's subscription to the topic is in effect: whatever is stored after
 * the read is then certain to arrive live, and whatever was stored before it is in the read.
 */
const startRecovery = (
  context: HubContext,
  self: { send(event: HubEvent): void },
  id: ClientId,
  topic: Topic,
  ref: Ref | undefined,
  since: StreamPosition | undefined,
): void => {
  let waiting = context.recovering.get(topic);
  if (!waiting) context.recovering.set(topic, (waiting = new Map()));
  waiting.set(id, { messages: [], dropped: 0 });
  context.history!.readAsync!(topic, since?.offset, (result) =>
    self.send({
      type: 'hub.history.read',
      id,
      topic,
      result,
      ref,
      since,
    }),
  );
};

/** Whether a subscribe to this topic goes through the shared store's asynchronous read (cluster). */
const recoversAsync = (context: HubContext, topic: Topic): boolean =>
  context.history !== undefined && !context.history.synchronous && context.history.covers(topic);

/** The ack first, then the replay: a subscriber learns where it stands before any message. */
const answerSubscribe = (
  context: HubContext,
  id: ClientId,
  ref: Ref | undefined,
  answer: { result: object; replay: Frame[] },
): void => {
  if (ref !== undefined) deliver(context, id, context.frames.ack(ref, answer.result));
  for (const frame of answer.replay) deliver(context, id, frame);
};

/** Sends joined/left to the topic's local members (but the one concerned), when presence events are on for it. */
const announce = (context: HubContext, kind: 'joined' | 'left', topic: Topic, id: ClientId, meta: unknown): void => {
  if (!context.presenceEvents(topic)) return;
  const frame = context.frames[kind](topic, { id, meta });
  if (frame) sendToMembers(context, topic, frame, id);
};

/** After a local join: tell the cluster, and open the topic's channel for its first member. */
const joinedLocally = (context: HubContext, topic: Topic, id: ClientId, meta: unknown): void => {
  if (context.topics.memberCount(topic) === 1) context.forward({ kind: 'topicOpened', topic });
  context.forward({ kind: 'joined', topic, id, meta });
};

/** After a local leave: tell the cluster, and close the topic's channel after its last member. */
const leftLocally = (context: HubContext, topic: Topic, id: ClientId): void => {
  context.forward({ kind: 'left', topic, id });
  if (context.topics.memberCount(topic) === 0) context.forward({ kind: 'topicClosed', topic });
};

/** The hub's departure queue, invoked at its root (so it outlives running and draining). */
const departuresOf = (hub: { getSnapshot(): { children: Record<string, unknown> } }): DeparturesRef =>
  hub.getSnapshot().children[DEPARTURES] as DeparturesRef;

/** At shutdown, where a writer reports instead of its client: only the socket's end matters. */
const departOnClose = (departures: DeparturesRef, id: ClientId, ref: ClientRef): WriterOwner => ({
  send: (event) => {
    if (event.type === 'client.socketClosed') departures.send({ type: 'departures.add', id, ref });
  },
});

/**
 * Takes one client out of the registry and its topics; the caller stops its actor. `socketGone`:
 * it departed (its socket closed), so there is nothing left to close.
 */
const dropClient = (context: HubContext, id: ClientId, socketGone = false): void => {
  const entry = context.clients.get(id);
  if (!entry) return; // unknown or already removed: a no-op, not a panic
  context.clients.delete(id);
  for (const topic of context.topics.removeClient(id)) {
    announce(context, 'left', topic, id, entry.meta);
    leftLocally(context, topic, id);
  }
  context.forward({ kind: 'clientDown', id });
  if (socketGone) return;
  const client = entry.ref.getSnapshot();
  // The client actor failed: the writer it owned has no owner left to close its socket.
  if (client.status !== 'active') entry.writer.dispose();
  // Removed while still connected (someone else sent hub.unregister): do not leak the socket.
  else if (client.value !== 'closed') {
    entry.ref.send({ type: 'client.close', code: 1000, reason: 'unregistered' });
    // Its actor is stopped with this step; the socket's later close has nobody to tell (and an
    // event sent to a stopped actor is only a warning on stderr).
    entry.writer.handOver(NOBODY);
  }
};

const NOBODY: WriterOwner = { send: () => undefined };

const SHUTTING_DOWN = 'the hub is shutting down';

/** Ends a subscriber's wait for its recovery read (cluster): what was held for it, if anything. */
const takeHeld = (context: HubContext, topic: Topic, id: ClientId): Held | undefined => {
  const waiting = context.recovering.get(topic);
  const held = waiting?.get(id);
  waiting?.delete(id);
  if (waiting?.size === 0) context.recovering.delete(topic);
  return held;
};

/**
 * The hub. Events are processed one at a time from the actor's mailbox: that sequencing is
 * what replaces the mutex of the classic Go hub. Clients are created with createActor({ parent })
 * and kept in a Map, not in snapshot.children, so register/unregister stay O(1) (docs/decisions/
 * 0001-xstate-facts.md, fact 1). The topic index lives beside the registry, in the same context.
 */
export const hubMachine = setup({
  types: {
    context: {} as HubContext,
    input: {} as HubInput,
    events: {} as HubEvent,
  },
  actors: {
    // One hub-wide timer instead of a timer per client (docs/decisions/0001-xstate-facts.md, fact 4).
    // `callback.halt`: XState leaves a failed parent's children running; the hub's supervisor
    // halts them, so nothing is sent to the dead hub.
    heartbeat: fromCallback<EventObject, { intervalMs: number }>(({ input, sendBack, receive }) => {
      const timer = setInterval(() => sendBack({ type: 'hub.sweep', now: Date.now() }), input.intervalMs);
      timer.unref?.();
      receive((event) => event.type === 'callback.halt' && clearInterval(timer));
      return () => clearInterval(timer);
    }),
    // Where clients report that their socket is gone: a receive costs no hub step; the batch
    // reaches the hub as one hub.departed per event-loop turn (bounded: a client departs once).
    departures: fromCallback<({ type: 'departures.add' } & Departure) | { type: 'callback.halt' }>(
      ({ sendBack, receive }) => {
        let batch: Departure[] = [];
        let pending: ReturnType<typeof setImmediate> | undefined;
        let halted = false;
        const flush = (): void => {
          const all = batch;
          batch = [];
          pending = undefined;
          for (let i = 0; i < all.length; i += MAX_DEPARTURES_PER_STEP) {
            sendBack({ type: 'hub.departed', departures: all.slice(i, i + MAX_DEPARTURES_PER_STEP) });
          }
        };
        receive((event) => {
          if (event.type === 'callback.halt') {
            halted = true;
            if (pending) clearImmediate(pending);
          } else if (!halted && batch.push({ id: event.id, ref: event.ref }) === 1) pending = setImmediate(flush);
        });
        return () => {
          if (pending) clearImmediate(pending);
        };
      },
    ),
  },
  delays: {
    shutdownTimeout: ({ context }) => context.shutdown.timeoutMs,
  },
  guards: {
    isRegistered: ({ context }, params: { id: ClientId }) => context.clients.has(params.id),
    isFull: ({ context }) => context.clients.size >= context.maxClients,
    isEmpty: ({ context }) => context.clients.size === 0,
    // An inspector is attached: every client's close must be a step of its own machine.
    isWatched: ({ context }) => context.watched === true,
  },
  actions: {
    addClient: assign(({ context, self }, params: HubRegisterEvent) => {
      const limits = limitsFor(context.limits, params.limits);
      const writer = context.createWriter({
        id: params.id,
        connection: params.connection,
        limits,
        pongWaitMs: context.pongWaitMs,
        expiresAt: params.expiresAt,
      });
      const ref = createActor(context.clientLogic, {
        parent: self,
        id: params.id,
        input: {
          id: params.id,
          meta: params.meta,
          topics: params.topics,
          writer,
          limits,
          badFrames: context.badFrames,
          departures: departuresOf(self),
        },
      });
      context.clients.set(params.id, { ref, writer, meta: params.meta, connectedAt: Date.now() });
      context.forward({ kind: 'clientUp', id: params.id, meta: params.meta });
      return { count: context.clients.size };
    }),
    /** Runs after the transition (stopChild is deferred), so removeClient still sees the client as it was. */
    // An unknown id resolves to '' (no such child): nothing to stop.
    stopClient: stopChild(({ context }, params: { id: ClientId }) => context.clients.get(params.id)?.ref ?? ''),
    startClient: ({ context }, params: { id: ClientId }) => {
      const entry = context.clients.get(params.id);
      if (!entry) return;
      entry.ref.start();
      deliver(context, params.id, context.frames.welcome(params.id));
    },
    /** The connection never became a client: the hub owns it for this instant only. */
    rejectClient: (_, params: { event: HubRegisterEvent; code: number; reason: string }) => {
      params.event.connection.close(params.code, params.reason);
    },
    removeClient: assign(({ context }, params: { id: ClientId }) => {
      dropClient(context, params.id);
      return { count: context.clients.size, topicCount: context.topics.topicCount };
    }),
    // Departures in bulk: one hub step for every client whose socket closed during the last
    // event-loop turn (a mass disconnect, a shutdown), not one step each.
    removeDeparted: enqueueActions(({ context, enqueue }, params: { departures: readonly Departure[] }) => {
      // Skips a client already removed, or replaced since by a namesake.
      const gone = params.departures.filter(({ id, ref }) => context.clients.get(id)?.ref === ref);
      for (const { ref } of gone) enqueue.stopChild(ref);
      enqueue.assign(({ context: current }) => {
        for (const { id } of gone) dropClient(current, id, true);
        return { count: current.clients.size, topicCount: current.topics.topicCount };
      });
    }),
    broadcast: (
      { context, self },
      params: {
        data: unknown;
        binary?: boolean | undefined;
        except?: ClientId | undefined;
        remote?: boolean | undefined;
      },
    ) => {
      if (!params.remote)
        context.forward({ kind: 'broadcast', data: params.data, binary: params.binary, except: params.except });
      let frame;
      try {
        frame = context.frames.message(params.data, params.binary, undefined, undefined);
      } catch (error) {
        self.send({ type: 'hub.failed', during: 'hub.broadcast', error });
        return;
      }
      sendToWriters(context.clients, { type: 'writer.deliver', frame }, params.except);
    },
    send: (
      { context, self },
      params: {
        to: ClientId;
        data: unknown;
        binary?: boolean | undefined;
        from?: ClientId | undefined;
        ref?: Ref | undefined;
        remote?: boolean | undefined;
      },
    ) => {
      const entry = context.clients.get(params.to);
      if (!entry) {
        const node = params.remote ? undefined : context.remote.nodeOf(params.to);
        if (node !== undefined) {
          // Routed to the node that owns the client; delivery there is at-most-once.
          context.forward({
            kind: 'send',
            node,
            to: params.to,
            data: params.data,
            binary: params.binary,
            from: params.from,
          });
          answer(context, params.from, params.ref, { delivered: 0, forwarded: 1 });
        } else if (!params.remote) {
          refuse(context, params.from, params.ref, 'unknown_client', `no client "${params.to}" is connected`);
        }
        return;
      }
      let frame;
      try {
        frame = context.frames.message(params.data, params.binary, undefined, params.from);
      } catch (error) {
        refuse(context, params.from, params.ref, 'encode_failed', 'the message could not be encoded');
        self.send({ type: 'hub.failed', during: 'hub.send', error });
        return;
      }
      entry.writer.send({ type: 'writer.deliver', frame });
      answer(context, params.from, params.ref, { delivered: 1, forwarded: 0 });
    },
    subscribe: assign(
      (
        { context, self },
        params: { id: ClientId; topic: Topic; ref?: Ref | undefined; since?: StreamPosition | undefined },
      ) => {
        const entry = context.clients.get(params.id);
        if (!entry) return {}; // the client left while its command was queued
        const { id, topic, ref } = params;
        const problem = topicProblem(context, topic);
        if (problem) {
          refuse(context, id, ref, 'invalid_topic', problem);
        } else if (context.topics.has(id, topic)) {
          // idempotent
          if (recoversAsync(context, topic)) startRecovery(context, self, id, topic, ref, params.since);
          else answerSubscribe(context, id, ref, recovery(context, topic, params.since));
        } else if (context.topics.topicsOf(id).size >= context.topicLimits.maxTopicsPerClient) {
          refuse(
            context,
            id,
            ref,
            'too_many_topics',
            `a client may join at most ${context.topicLimits.maxTopicsPerClient} topics`,
          );
        } else if (context.topics.membershipCount >= context.topicLimits.maxSubscriptions) {
          refuse(
            context,
            id,
            ref,
            'too_many_topics',
            `the hub holds its maximum of ${context.topicLimits.maxSubscriptions} subscriptions`,
          );
        } else if (context.topics.memberCount(topic) >= context.topicLimits.maxMembersPerTopic) {
          refuse(
            context,
            id,
            ref,
            'topic_full',
            `topic "${topic}" has its maximum of ${context.topicLimits.maxMembersPerTopic} members`,
          );
        } else if (recoversAsync(context, topic)) {
          context.topics.add(id, topic, entry.meta);
          announce(context, 'joined', topic, id, entry.meta);
          joinedLocally(context, topic, id, entry.meta);
          startRecovery(context, self, id, topic, ref, params.since);
        } else {
          // Ack, replay and joining happen in this one step: no publish can fall between them.
          answerSubscribe(context, id, ref, recovery(context, topic, params.since));
          context.topics.add(id, topic, entry.meta);
          announce(context, 'joined', topic, id, entry.meta);
          joinedLocally(context, topic, id, entry.meta);
        }
        return { topicCount: context.topics.topicCount };
      },
    ),
    unsubscribe: assign(({ context }, params: { id: ClientId; topic: Topic; ref?: Ref | undefined }) => {
      const entry = context.clients.get(params.id);
      if (!entry) return {};
      if (context.topics.remove(params.id, params.topic)) {
        announce(context, 'left', params.topic, params.id, entry.meta);
        leftLocally(context, params.topic, params.id);
      }
      answer(context, params.id, params.ref); // leaving a topic you are not in is not an error
      return { topicCount: context.topics.topicCount };
    }),
    publish: (
      { context, self },
      params: {
        topic: Topic;
        data: unknown;
        binary?: boolean | undefined;
        except?: ClientId | undefined;
        from?: ClientId | undefined;
        ref?: Ref | undefined;
        remote?: boolean | undefined;
        reply?: ((outcome: PublishOutcome) => void) | undefined;
        offset?: number | undefined;
        epoch?: string | undefined;
      },
    ) => {
      const { topic, binary, except, from } = params;
      let data = params.data;
      let stored: StreamPosition | undefined;
      if (!params.remote && recoversAsync(context, topic)) {
        // Cluster: the shared store numbers it and notifies every node (this one too); the
        // notification is what members get. The publisher's answer waits for the offset.
        const { ref, reply } = params;
        context.history!.appendAsync!(topic, data, from, except, (result) =>
          self.send({
            type: 'hub.history.appended',
            topic,
            result,
            from,
            except,
            ref,
            reply,
          }),
        );
        return;
      }
      if (!params.remote && context.history?.covers(topic)) {
        try {
          const appended = context.history.append(topic, data, from);
          stored = { epoch: appended.epoch, offset: appended.offset };
          data = appended.data;
        } catch (error) {
          // Never acked and lost: the publisher hears that nothing was delivered.
          const unencodable = (error as { code?: unknown | undefined }).code === 'encode_failed';
          const code = unencodable ? 'encode_failed' : 'unavailable';
          const message = unencodable
            ? 'the message could not be encoded'
            : `the message could not be stored in the history of "${topic}": ${(error as Error).message}`;
          refuse(context, from, params.ref, code, message);
          params.reply?.({ error: code, message });
          if (unencodable) self.send({ type: 'hub.failed', during: 'hub.publish', error });
          return;
        }
      }
      if (!params.remote) context.forward({ kind: 'publish', topic, data, binary, except, from });
      let frame;
      const offset = stored?.offset ?? params.offset;
      try {
        // One frame per publish, epoch included: recipients add no work (the hot path).
        frame = context.frames.message(data, binary, topic, from, offset, stored?.epoch ?? params.epoch);
      } catch (error) {
        refuse(context, from, params.ref, 'encode_failed', 'the message could not be encoded');
        params.reply?.({ error: 'encode_failed', message: 'the message could not be encoded' });
        self.send({ type: 'hub.failed', during: 'hub.publish', error });
        return;
      }
      const waiting = offset === undefined ? undefined : context.recovering.get(topic);
      const delivered = waiting
        ? sendToMembersHolding(context, topic, frame, offset!, waiting, except)
        : sendToMembers(context, topic, frame, except);
      // delivered: members on this node; forwarded: members this node knows of on the others,
      // for whom the message went to the broker (delivered there at most once).
      const forwarded = params.remote ? 0 : context.remote.members(topic).size;
      const outcome = stored ? { delivered, forwarded, offset: stored.offset } : { delivered, forwarded };
      answer(context, from, params.ref, outcome);
      params.reply?.(stored ? { ...outcome, epoch: stored.epoch } : outcome);
    },
    historyAppended: (
      { context },
      params: {
        topic: Topic;
        from?: ClientId | undefined;
        except?: ClientId | undefined;
        ref?: Ref | undefined;
        reply?: ((outcome: PublishOutcome) => void) | undefined;
        result: HistoryAppendResult;
        /** The hub is draining: the notification will find no local member (it is dropped). */
        draining?: boolean | undefined;
      },
    ) => {
      const { topic, from, except, ref, reply, result } = params;
      if ('error' in result) {
        refuse(context, from, ref, result.error, result.message);
        reply?.({ error: result.error, message: result.message });
        return;
      }
      // Stored before the shutdown stopped it, this message is in the stream and on its way to
      // the other nodes: it is answered with its offset, not shutting_down, which would have a
      // caller publish it a second time elsewhere. Local recipients as the notification will
      // find them (it is on its way to this node too): none while draining.
      const delivered = params.draining
        ? 0
        : context.topics.memberCount(topic) - (except !== undefined && context.topics.has(except, topic) ? 1 : 0);
      const forwarded = context.remote.members(topic).size;
      answer(context, from, ref, { delivered, forwarded, offset: result.offset });
      reply?.({ delivered, forwarded, offset: result.offset, epoch: result.epoch });
    },
    // The ack, the replay, then what was held during the read, deduplicated by offset: the
    // cross-node seam (docs/architecture.md).
    historyRead: assign(
      (
        { context },
        params: {
          id: ClientId;
          topic: Topic;
          ref?: Ref | undefined;
          since?: StreamPosition | undefined;
          result: HistoryReadResult;
        },
      ) => {
        const { id, topic, ref, since, result } = params;
        const held = takeHeld(context, topic, id);
        const entry = context.clients.get(id);
        if (!entry) return {};
        if ('error' in result) {
          // Without a position the subscription would silently be at-most-once: undo it.
          if (context.topics.remove(id, topic)) {
            announce(context, 'left', topic, id, entry.meta);
            leftLocally(context, topic, id);
          }
          refuse(context, id, ref, result.error, result.message);
          return { topicCount: context.topics.topicCount };
        }
        const dropped = held?.dropped ?? 0;
        // More arrived during the read than could be held: what lies between the read's top and
        // the oldest message still held is gone for this subscriber. Its ack names the position
        // live continues from without a gap (`dropped`), and a recovery is not one.
        const answer =
          dropped > result.offset
            ? {
                result: since
                  ? { epoch: result.epoch, offset: dropped, recovered: false }
                  : { epoch: result.epoch, offset: dropped },
                replay: [],
              }
            : recoveryFrom(context, topic, since, result);
        answerSubscribe(context, id, ref, answer);
        const after = Math.max(result.offset, dropped);
        if (held && context.topics.has(id, topic)) {
          for (const m of held.messages) if (m.offset > after) deliver(context, id, m.frame);
        }
        return {};
      },
    ),
    // Draining: the subscriber is being closed; its ref is answered and nothing it held is kept.
    historyReadDraining: ({ context }, params: { id: ClientId; topic: Topic; ref?: Ref | undefined }) => {
      takeHeld(context, params.topic, params.id);
      if (params.ref !== undefined) refuse(context, params.id, params.ref, 'shutting_down', SHUTTING_DOWN);
    },
    presence: (
      { context },
      params: {
        id: ClientId;
        topic: Topic;
        ref?: Ref | undefined;
        limit?: number | undefined;
        cursor?: ClientId | undefined;
      },
    ) => {
      if (params.ref === undefined) return; // nobody to answer: build nothing
      // Capped: a 60-byte request must not buy a 10k-member answer (docs/security.md#presence).
      const max = context.topicLimits.presencePageSize;
      const limit = Math.min(params.limit ?? max, max);
      const { topic } = params;
      const page = presenceOf(context.topics, context.remote, topic, params.cursor, limit);
      answer(context, params.id, params.ref, { topic, ...page });
    },
    remoteClientUp: ({ context }, params: { node: string; id: ClientId; meta: unknown }) => {
      context.remote.clientUp(params.node, params.id, params.meta);
    },
    remoteClientDown: ({ context }, params: { id: ClientId }) => {
      const meta = context.remote.metaOf(params.id);
      for (const topic of context.remote.clientDown(params.id)) announce(context, 'left', topic, params.id, meta);
    },
    remoteJoined: ({ context }, params: { node: string; topic: Topic; id: ClientId; meta: unknown }) => {
      if (context.remote.join(params.node, params.id, params.topic, params.meta)) {
        announce(context, 'joined', params.topic, params.id, params.meta);
      }
    },
    remoteLeft: ({ context }, params: { topic: Topic; id: ClientId }) => {
      const meta = context.remote.members(params.topic).get(params.id);
      if (context.remote.leave(params.id, params.topic)) announce(context, 'left', params.topic, params.id, meta);
    },
    remoteSync: (
      { context },
      params: {
        node: string;
        clients: readonly (readonly [ClientId, unknown])[];
        joins: readonly (readonly [Topic, ClientId])[];
      },
    ) => {
      const { joined, left } = context.remote.replaceNode(params.node, params.clients, params.joins);
      for (const [topic, id, meta] of left) announce(context, 'left', topic, id, meta);
      for (const [topic, id, meta] of joined) announce(context, 'joined', topic, id, meta);
    },
    remoteNodeDown: ({ context }, params: { node: string }) => {
      for (const { id, meta, topics } of context.remote.purgeNode(params.node)) {
        for (const topic of topics) announce(context, 'left', topic, id, meta);
      }
    },
    sweep: ({ context }, params: { now: number }) => {
      sendToWriters(context.clients, { type: 'writer.heartbeat', now: params.now });
    },
    disconnect: ({ context }, params: { id: ClientId; code: number; reason: string }) => {
      context.clients.get(params.id)?.ref.send({ type: 'client.close', code: params.code, reason: params.reason });
    },
    // Watched (an inspector is attached): every client is told, and closes as for any other
    // reason, a visible open → closing with the shutdown's code and reason, then closing → closed
    // once its socket has gone, which reports its departure. Two machine steps per client: about
    // twice the CPU of closeAllQuietly (docs/machines.md, "Shutdown"), so only when someone looks.
    closeAll: ({ context }) => {
      const event = { type: 'client.shutdown' as const, code: context.shutdown.code, reason: context.shutdown.reason };
      for (const entry of context.clients.values()) entry.ref.send(event);
    },
    // Unwatched: one pass of close frames straight through the writers. Each socket's last report
    // goes to the departure queue, not to its client: the client is stopped from where it is once
    // its socket has closed, without a machine step (50k clients in-process under 1 s).
    closeAllQuietly: ({ context, self }) => {
      const event: WriterEvent = { type: 'writer.close', code: context.shutdown.code, reason: context.shutdown.reason };
      const departures = departuresOf(self);
      for (const [id, { ref, writer }] of context.clients) {
        writer.handOver(departOnClose(departures, id, ref));
        writer.send(event);
      }
    },
    terminateAll: ({ context }) => {
      const event = { type: 'client.terminate' as const };
      for (const entry of context.clients.values()) entry.ref.send(event);
    },
    recordShutdown: assign(
      (
        { context },
        params: { code?: number | undefined; reason?: string | undefined; timeoutMs?: number | undefined },
      ) => ({
        shutdown: {
          code: params.code ?? GOING_AWAY,
          reason: params.reason ?? 'server shutting down',
          timeoutMs: params.timeoutMs ?? context.shutdownTimeoutMs,
        },
      }),
    ),
    /** A client actor that threw is stopped, its socket still open: its writer closes it with 1011. */
    failClient: ({ context }, params: { id: ClientId }) => {
      const writer = context.clients.get(params.id)?.writer;
      writer?.handOver(NOBODY); // its owner is the stopped actor
      writer?.send({ type: 'writer.close', code: INTERNAL_ERROR, reason: 'internal error' });
    },
    refuseDraining: (
      { context },
      params: {
        id?: ClientId | undefined;
        ref?: Ref | undefined;
        reply?: ((outcome: PublishOutcome) => void) | undefined;
      },
    ) => {
      if (params.ref !== undefined) refuse(context, params.id, params.ref, 'shutting_down', SHUTTING_DOWN);
      // A publish from code (publishConfirmed) waits on this: it must settle, not hang.
      params.reply?.({ error: 'shutting_down', message: SHUTTING_DOWN });
    },
    // Provided from src/ (logging); a no-op in the bare machine.
    reportError: (_, _params: { during: string; error: unknown }) => undefined,
  },
}).createMachine({
  id: 'hub',
  context: ({ input }) => ({
    ...input,
    clients: new Map(),
    count: 0,
    topics: new TopicIndex(),
    topicCount: 0,
    remote: new RemoteDirectory(),
    recovering: new Map(),
    shutdown: { code: GOING_AWAY, reason: 'server shutting down', timeoutMs: input.shutdownTimeoutMs },
  }),
  initial: 'running',
  invoke: { id: DEPARTURES, src: 'departures' },
  on: {
    // Every client whose socket closed since the last turn of the event loop (see departures).
    'hub.departed': { actions: { type: 'removeDeparted', params: ({ event }) => event } },
    // From anyone: removes the client now and closes it if it is still connected.
    'hub.unregister': {
      actions: [
        { type: 'stopClient', params: ({ event }) => ({ id: event.id }) },
        { type: 'removeClient', params: ({ event }) => ({ id: event.id }) },
      ],
    },
    'hub.failed': { actions: { type: 'reportError', params: ({ event }) => event } },
    // A client actor that threw is already stopped; removeClient disposes of its writer (and socket).
    'xstate.error.actor.*': {
      actions: [
        {
          type: 'reportError',
          params: ({ event }: { event: AnyEventObject }) => ({
            during: `client ${String(event.actorId)}`,
            error: event.error,
          }),
        },
        { type: 'failClient', params: ({ event }: { event: AnyEventObject }) => ({ id: String(event.actorId) }) },
        { type: 'removeClient', params: ({ event }: { event: AnyEventObject }) => ({ id: String(event.actorId) }) },
      ],
    },
  },
  states: {
    running: {
      invoke: {
        id: 'hub.heartbeat',
        src: 'heartbeat',
        input: ({ context }) => ({ intervalMs: context.pingIntervalMs }),
      },
      on: {
        'hub.register': [
          {
            guard: { type: 'isRegistered', params: ({ event }) => ({ id: event.id }) },
            actions: {
              type: 'rejectClient',
              params: ({ event }) => ({ event, code: DUPLICATE_ID, reason: 'duplicate client id' }),
            },
          },
          {
            guard: 'isFull',
            actions: {
              type: 'rejectClient',
              params: ({ event }) => ({ event, code: TRY_AGAIN_LATER, reason: 'hub is full' }),
            },
          },
          {
            actions: [
              { type: 'addClient', params: ({ event }) => event },
              { type: 'startClient', params: ({ event }) => ({ id: event.id }) },
            ],
          },
        ],
        'hub.broadcast': { actions: { type: 'broadcast', params: ({ event }) => event } },
        'hub.send': { actions: { type: 'send', params: ({ event }) => event } },
        'hub.subscribe': { actions: { type: 'subscribe', params: ({ event }) => event } },
        'hub.unsubscribe': { actions: { type: 'unsubscribe', params: ({ event }) => event } },
        'hub.publish': { actions: { type: 'publish', params: ({ event }) => event } },
        'hub.presence': { actions: { type: 'presence', params: ({ event }) => event } },
        'hub.history.appended': { actions: { type: 'historyAppended', params: ({ event }) => event } },
        'hub.history.read': { actions: { type: 'historyRead', params: ({ event }) => event } },
        'hub.remote.broadcast': {
          actions: { type: 'broadcast', params: ({ event }) => ({ ...event, remote: true }) },
        },
        'hub.remote.publish': { actions: { type: 'publish', params: ({ event }) => ({ ...event, remote: true }) } },
        'hub.remote.send': { actions: { type: 'send', params: ({ event }) => ({ ...event, remote: true }) } },
        'hub.remote.clientUp': { actions: { type: 'remoteClientUp', params: ({ event }) => event } },
        'hub.remote.clientDown': { actions: { type: 'remoteClientDown', params: ({ event }) => event } },
        'hub.remote.joined': { actions: { type: 'remoteJoined', params: ({ event }) => event } },
        'hub.remote.left': { actions: { type: 'remoteLeft', params: ({ event }) => event } },
        'hub.remote.sync': { actions: { type: 'remoteSync', params: ({ event }) => event } },
        'hub.remote.nodeDown': { actions: { type: 'remoteNodeDown', params: ({ event }) => event } },
        'hub.disconnect': {
          actions: {
            type: 'disconnect',
            params: ({ event }) => ({ id: event.id, code: event.code ?? 1000, reason: event.reason ?? '' }),
          },
        },
        'hub.sweep': { actions: { type: 'sweep', params: ({ event }) => ({ now: event.now }) } },
        'hub.shutdown': [
          {
            guard: 'isWatched',
            target: 'draining',
            actions: [{ type: 'recordShutdown', params: ({ event }) => event }, 'closeAll'],
          },
          {
            target: 'draining',
            actions: [{ type: 'recordShutdown', params: ({ event }) => event }, 'closeAllQuietly'],
          },
        ],
      },
    },
    draining: {
      always: { guard: 'isEmpty', target: 'stopped' },
      after: { shutdownTimeout: { actions: 'terminateAll' } },
      on: {
        'hub.register': {
          actions: {
            type: 'rejectClient',
            params: ({ event, context }) => ({ event, code: context.shutdown.code, reason: context.shutdown.reason }),
          },
        },
        // A command still arriving (an asynchronous hook decided late, or code sent it) is
        // answered, not lost: its sender gets shutting_down if it asked for an answer (a ref).
        'hub.send': {
          actions: { type: 'refuseDraining', params: ({ event }) => ({ id: event.from, ref: event.ref }) },
        },
        'hub.publish': {
          actions: {
            type: 'refuseDraining',
            params: ({ event }) => ({ id: event.from, ref: event.ref, reply: event.reply }),
          },
        },
        'hub.subscribe': {
          actions: { type: 'refuseDraining', params: ({ event }) => ({ id: event.id, ref: event.ref }) },
        },
        'hub.unsubscribe': {
          actions: { type: 'refuseDraining', params: ({ event }) => ({ id: event.id, ref: event.ref }) },
        },
        'hub.presence': {
          actions: { type: 'refuseDraining', params: ({ event }) => ({ id: event.id, ref: event.ref }) },
        },
        // Answers of the shared store (cluster) for work begun before the shutdown: every
        // publisher's reply settles and every ref is answered, none waits forever.
        'hub.history.appended': {
          actions: { type: 'historyAppended', params: ({ event }) => ({ ...event, draining: true }) },
        },
        'hub.history.read': { actions: { type: 'historyReadDraining', params: ({ event }) => event } },
      },
    },
    stopped: { type: 'final' },
  },
});

export type HubMachine = typeof hubMachine;
