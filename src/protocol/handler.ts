import type { AnyActorRef } from 'xstate';
import type { ClientId, TopicGrant } from '../../machines/client.types.js';
import type { OutboundFrames } from '../../machines/hub.types.js';
import { clientHandle } from './client-handle.js';
import { CloseCode } from '../transport/close-codes.js';
import type { ClientHandle, Hub, HubOptions, Reauthentication, TopicHook } from '../types.js';
import type { Logger } from '../observability/logger.js';
import type { HubStats } from '../observability/stats.js';
import { makeDecoder } from './decode.js';
import type { StandardSchemaV1 } from '../client/standard-schema.js';
import { describeIssues } from './topic-schemas.js';
import { HistoryError } from '../history/read.js';
import type { ProtocolErrorCode } from './error-codes.js';
import type { InboundFrame, ProtocolRef } from './schema.js';
import { InboundRateLimiter, type RateLimits } from '../admission/rate-limit.js';
import { isTopicList, topicGrant } from '../admission/topic-grant.js';
import { holdsNonFinite, mayHoldNonFinite, NON_FINITE_MESSAGE } from './finite-data.js';
import { MAX_PENDING_HISTORY_READS } from '../limits.js';
import { depthWithin } from '../cluster/envelope.js';

export interface ProtocolDeps {
  readonly hub: () => Hub;
  readonly frames: OutboundFrames;
  readonly maxTopicLength: number;
  readonly maxPendingCommands: number;
  /**
   * Deepest nesting of a publish's or send's `data`. Other nodes of a cluster drop a broker message
   * nested deeper than their maxEnvelopeDepth: refused here rather than acked and lost there.
   */
  readonly maxDataDepth: number;
  readonly canSubscribe: TopicHook | undefined;
  readonly canPublish: TopicHook | undefined;
  /** Who besides a topic's members may list them; undefined: nobody. */
  readonly canSeePresence: TopicHook | undefined;
  /** Verifies a `refresh` command's token; undefined: `refresh` answers refresh_unsupported. */
  readonly reauthenticate?: HubOptions['reauthenticate'];
  /** Presence queries per client (presenceQueryLimits); undefined: unlimited. */
  readonly presenceLimits: RateLimits | undefined;
  /** What a refused presence query gets, the ref aside. */
  readonly presenceLimitedMessage: string;
  /** The schema a topic's published data must match (createHub({ topicSchemas })), if any. */
  readonly schemaFor?: (topic: string) => StandardSchemaV1 | undefined;
  readonly logger: Logger;
  readonly stats: HubStats;
}

interface Chain {
  pending: number;
  tail: Promise<void>;
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * The JSON protocol's inbound side, as the client machine's `handleMessage` action: decode
 * the frame (effect/Schema), authorize it (canSubscribe/canPublish, sync or async) and turn
 * it into a hub event. A client's commands are handled in the order they arrived, even when
 * a hook is asynchronous; at most maxPendingCommands may wait.
 */
export function createProtocolHandler(deps: ProtocolDeps) {
  const decode = makeDecoder(deps.maxTopicLength);
  const chains = new WeakMap<AnyActorRef, Chain>();
  /** `history` reads in flight per client (bounded by MAX_PENDING_HISTORY_READS). */
  const historyReads = new WeakMap<AnyActorRef, number>();
  /** Created on a client's first presence query: most clients never ask. */
  const presenceLimiters = new WeakMap<AnyActorRef, InboundRateLimiter>();

  /** False when the query is refused (rate_limited, or 1008 past the violations allowed). */
  const presenceAllowed = (self: AnyActorRef, ref: ProtocolRef | undefined): boolean => {
    const limits = deps.presenceLimits;
    if (limits === undefined) return true;
    const now = performance.now();
    let limiter = presenceLimiters.get(self);
    if (!limiter) presenceLimiters.set(self, (limiter = new InboundRateLimiter(limits, now)));
    const verdict = limiter.check(1, now);
    if (verdict === 'ok') return true;
    deps.stats.rateLimited++;
    if (verdict === 'close') {
      deps.stats.rateLimitCloses++;
      self.send({ type: 'client.close', code: CloseCode.PolicyViolation, reason: 'rate limit exceeded' });
      return false;
    }
    const f = deps.frames.error(ref, 'rate_limited', deps.presenceLimitedMessage);
    if (f) self.send({ type: 'client.reply', frame: f });
    return false;
  };

  const execute = (
    self: AnyActorRef,
    client: ClientHandle,
    frame: InboundFrame,
    text: string,
  ): void | Promise<void> => {
    const hub = deps.hub();
    const id = client.id;
    const ref = frame.ref;
    const reply = (code: ProtocolErrorCode, message: string): void => {
      const f = deps.frames.error(ref, code, message);
      if (f) self.send({ type: 'client.reply', frame: f });
    };
    const authorized = (
      hook: TopicHook | undefined,
      topic: string,
      then: () => void | Promise<void>,
      what: string,
    ): void | Promise<void> => {
      // The token's topics claim first: read from the client's machine now, as a refresh may have changed it.
      const grant = (self.getSnapshot() as { context: { topics?: TopicGrant | undefined } }).context.topics;
      if (grant !== undefined && !grant(topic))
        return reply('forbidden', `your token does not allow you to ${what} "${topic}"`);
      if (!hook) return then();
      const decide = (allowed: unknown): void | Promise<void> =>
        allowed === true ? then() : reply('forbidden', `not allowed to ${what} "${topic}"`);
      const verdict = hook(client, topic);
      return isThenable(verdict) ? Promise.resolve(verdict).then(decide) : decide(verdict);
    };
    // The topic's schema (topicSchemas), after authorization: data that does not match is
    // refused with invalid_data and reaches no one. The data published is what was sent.
    const conforming = (topic: string, data: unknown, then: () => void): void | Promise<void> => {
      const schema = deps.schemaFor?.(topic);
      if (!schema) return then();
      const check = (result: StandardSchemaV1.Result<unknown>): void =>
        result.issues
          ? reply('invalid_data', `data does not match the schema of "${topic}": ${describeIssues(result.issues)}`)
          : then();
      const result = schema['~standard'].validate(data);
      return isThenable(result) ? Promise.resolve(result).then(check) : check(result);
    };
    if (frame.type === 'publish' || frame.type === 'send') {
      // 1e999 parses as Infinity and would be relayed as null: refused, like a schema mismatch.
      if (mayHoldNonFinite(text) && holdsNonFinite(frame.data))
        return reply('invalid_data', `data: ${NON_FINITE_MESSAGE}`);
      // Nesting deeper than d takes more than 2d characters: short frames are not walked at all.
      if (text.length > 2 * deps.maxDataDepth && !depthWithin(frame.data, deps.maxDataDepth))
        return reply('invalid_data', `data: nested deeper than ${deps.maxDataDepth} levels`);
    }
    switch (frame.type) {
      case 'refresh':
        return refresh(self, client, frame.token, ref, reply);
      case 'ping': {
        const f = ref === undefined ? undefined : deps.frames.ack(ref, {});
        if (f) self.send({ type: 'client.reply', frame: f });
        return;
      }
      case 'subscribe':
        return authorized(
          deps.canSubscribe,
          frame.topic,
          () =>
            hub.actor.send({
              type: 'hub.subscribe',
              id,
              topic: frame.topic,
              since: frame.since,
              ref,
            }),
          'subscribe to',
        );
      case 'history':
        return authorized(
          deps.canSubscribe,
          frame.topic,
          // A read: issued in this client's command order (the store reads the stream as it is
          // now), answered when the store answers. It is not returned to the command chain, so
          // the commands after it (pipelined publishes) do not wait for its answer nor count it
          // against maxPendingCommands: reads have their own bound.
          () => {
            const inFlight = historyReads.get(self) ?? 0;
            if (inFlight >= MAX_PENDING_HISTORY_READS)
              return reply('overloaded', `more than ${MAX_PENDING_HISTORY_READS} history reads are in flight`);
            historyReads.set(self, inFlight + 1);
            hub
              .history(frame.topic, {
                limit: frame.limit,
                since: frame.since,
              })
              .then(
                (result) => {
                  const f = ref === undefined ? undefined : deps.frames.ack(ref, result);
                  if (f) self.send({ type: 'client.reply', frame: f });
                },
                (error: unknown) =>
                  error instanceof HistoryError
                    ? reply(error.code, error.message)
                    : reply('unavailable', 'the history could not be read'),
              )
              .catch((err: unknown) => fail(self, id, err))
              .finally(() => historyReads.set(self, (historyReads.get(self) ?? 1) - 1));
          },
          'read the history of',
        );
      case 'unsubscribe':
        hub.actor.send({ type: 'hub.unsubscribe', id, topic: frame.topic, ref });
        return;
      case 'publish':
        return authorized(
          deps.canPublish,
          frame.topic,
          () =>
            conforming(frame.topic, frame.data, () =>
              hub.actor.send({
                type: 'hub.publish',
                topic: frame.topic,
                data: frame.data,
                from: id,
                ...(frame.echo === true ? {} : { except: id }),
                ref,
              }),
            ),
          'publish to',
        );
      case 'send':
        hub.actor.send({ type: 'hub.send', to: frame.to, data: frame.data, from: id, ref });
        return;
      case 'presence': {
        if (!presenceAllowed(self, ref)) return;
        const member = hub.isMember(id, frame.topic);
        const ask = (): void =>
          hub.actor.send({
            type: 'hub.presence',
            id,
            topic: frame.topic,
            ref,
            limit: frame.limit,
            cursor: frame.cursor,
          });
        if (member) return ask();
        // Members only unless the embedder opens it: a member list is every id a direct send can reach.
        if (!deps.canSeePresence) return reply('forbidden', `only members may see the presence of "${frame.topic}"`);
        return authorized(deps.canSeePresence, frame.topic, ask, 'see the presence of');
      }
    }
  };

  /**
   * `refresh`: the hook verifies the new token; its expiry and topics replace the client's (the
   * writer moves its timer). Acked with the new `exp` in seconds (null: the token never expires).
   */
  const refresh = (
    self: AnyActorRef,
    client: ClientHandle,
    token: string,
    ref: ProtocolRef | undefined,
    reply: (code: ProtocolErrorCode, message: string) => void,
  ): void | Promise<void> => {
    const verify = deps.reauthenticate;
    if (!verify) return reply('refresh_unsupported', 'this hub verifies no tokens: there is nothing to refresh');
    const apply = (result: Reauthentication): void => {
      if ('error' in result) return reply('invalid_token', result.error);
      if (result.id !== undefined && result.id !== client.id)
        return reply('invalid_token', 'the token was issued for another client id');
      const { expiresAt, topics } = result;
      if (expiresAt !== undefined && (typeof expiresAt !== 'number' || Number.isNaN(expiresAt)))
        throw new TypeError('reauthenticate() returned an expiresAt that is not a time');
      if (topics !== undefined && !isTopicList(topics))
        throw new TypeError('reauthenticate() returned topics that are not a list of names');
      if (expiresAt !== undefined && expiresAt <= Date.now()) return reply('invalid_token', 'token expired');
      const at = expiresAt === undefined || expiresAt === Infinity ? undefined : expiresAt;
      self.send({
        type: 'client.refreshed',
        expiresAt: at,
        topics: topics === undefined ? undefined : topicGrant(topics),
      });
      const f =
        ref === undefined ? undefined : deps.frames.ack(ref, { exp: at === undefined ? null : Math.floor(at / 1000) });
      if (f) self.send({ type: 'client.reply', frame: f });
    };
    const verdict = verify(client, token);
    return isThenable(verdict) ? Promise.resolve(verdict).then(apply) : apply(verdict);
  };

  const fail = (self: AnyActorRef, id: ClientId, err: unknown): void => {
    deps.stats.hookErrors++;
    deps.logger.error({ err, client: id }, 'an authorization hook failed; closing the client with 1011');
    self.send({ type: 'client.close', code: CloseCode.InternalError, reason: 'internal error' });
  };

  return (
    { self, context }: { self: AnyActorRef; context: { meta: unknown } },
    params: { id: ClientId; data: Buffer; binary: boolean },
  ): void => {
    const bad = (ref: ProtocolRef | undefined, code: ProtocolErrorCode, message: string): void => {
      const f = deps.frames.error(ref, code, message);
      if (f) self.send({ type: 'client.reply', frame: f });
      self.send({ type: 'client.badFrame', now: Date.now() });
    };
    if (params.binary) {
      bad(undefined, 'binary_not_supported', 'this hub speaks JSON text frames; binary frames are not accepted');
      return;
    }
    const text = params.data.toString('utf8');
    const decoded = decode(text);
    if (!decoded.ok) {
      bad(decoded.ref, decoded.code, decoded.message);
      return;
    }
    const client = clientHandle(deps.hub(), self, params.id, context.meta);
    const run = (): Promise<void> | void => {
      try {
        const r = execute(self, client, decoded.frame, text);
        return r === undefined ? undefined : r.catch((err: unknown) => fail(self, params.id, err));
      } catch (err) {
        fail(self, params.id, err);
      }
    };
    const chain = chains.get(self);
    if (!chain || chain.pending === 0) {
      const r = run();
      if (r) track(self, r);
      return;
    }
    if (chain.pending >= deps.maxPendingCommands) {
      const f = deps.frames.error(
        decoded.frame.ref,
        'overloaded',
        `more than ${deps.maxPendingCommands} commands are waiting for authorization`,
      );
      if (f) self.send({ type: 'client.reply', frame: f });
      return;
    }
    chain.pending++;
    chain.tail = chain.tail.then(run).finally(() => void chain.pending--);
  };

  function track(self: AnyActorRef, p: Promise<void>): void {
    let chain = chains.get(self);
    if (!chain) chains.set(self, (chain = { pending: 0, tail: Promise.resolve() }));
    const c = chain;
    c.pending++;
    c.tail = p.finally(() => void c.pending--);
  }
}
