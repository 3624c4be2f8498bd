import { Schema } from 'effect';
import { TOPIC_PATTERN } from '../../machines/topic-index.js';
import { MAX_REFRESH_TOKEN_LENGTH, MAX_TOPIC_LENGTH } from '../limits.js';

/**
 * The JSON wire protocol, client → server and server → client. These schemas are the single
 * source of truth: inbound frames are decoded with them, and the exported TypeScript types
 * (for clients to use) are derived from them. docs/protocol.md describes every frame.
 */
export const PROTOCOL_VERSION = 1;

const RefSchema = Schema.Union([Schema.String.check(Schema.isMaxLength(64)), Schema.Finite]);
const ref = Schema.optionalKey(RefSchema);
const ClientIdSchema = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(256));

const topicSchema = (maxTopicLength: number) =>
  Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(maxTopicLength), Schema.isPattern(TOPIC_PATTERN));

const OffsetSchema = Schema.Int.check(
  Schema.isGreaterThanOrEqualTo(0),
  Schema.isLessThanOrEqualTo(Number.MAX_SAFE_INTEGER),
);
/** A position in a topic's stream: what a client last saw (`since`), or where a stream stands. */
const PositionSchema = Schema.Struct({
  offset: OffsetSchema,
  epoch: Schema.String.check(Schema.isMaxLength(128)),
});

/** The inbound union, with the hub's topic-length limit baked into the topic field. */
export const makeInbound = (maxTopicLength: number) => {
  const topic = topicSchema(maxTopicLength);
  return Schema.Union([
    Schema.Struct({
      type: Schema.Literal('subscribe'),
      topic,
      /** Recover what was published after this position (topics with history). */
      since: Schema.optionalKey(PositionSchema),
      ref,
    }),
    Schema.Struct({ type: Schema.Literal('unsubscribe'), topic, ref }),
    Schema.Struct({
      type: Schema.Literal('publish'),
      topic,
      data: Schema.Unknown,
      /** Deliver to the sender too when it is subscribed (default: never echo). */
      echo: Schema.optionalKey(Schema.Boolean),
      ref,
    }),
    Schema.Struct({ type: Schema.Literal('send'), to: ClientIdSchema, data: Schema.Unknown, ref }),
    Schema.Struct({
      type: Schema.Literal('presence'),
      topic,
      ref,
      /** At most this many members (the hub caps it at its page size). */
      limit: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
      /** The `cursor` of the previous answer: the members after it. */
      cursor: Schema.optionalKey(ClientIdSchema),
    }),
    Schema.Struct({ type: Schema.Literal('ping'), ref }),
    Schema.Struct({
      type: Schema.Literal('history'),
      topic,
      limit: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(1))),
      since: Schema.optionalKey(PositionSchema),
      ref,
    }),
    /** A new token before the current one expires (docs/protocol.md#refresh). */
    Schema.Struct({
      type: Schema.Literal('refresh'),
      token: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(MAX_REFRESH_TOKEN_LENGTH)),
      ref,
    }),
  ]);
};

export const Inbound = makeInbound(MAX_TOPIC_LENGTH);
export const INBOUND_TYPES = [
  'subscribe',
  'unsubscribe',
  'publish',
  'send',
  'presence',
  'ping',
  'history',
  'refresh',
] as const;

const MemberSchema = Schema.Struct({ id: Schema.String, meta: Schema.optionalKey(Schema.Unknown) });

export const Outbound = Schema.Union([
  Schema.Struct({
    type: Schema.Literal('welcome'),
    id: Schema.String,
    protocol: Schema.Literal(PROTOCOL_VERSION),
    limits: Schema.Struct({
      maxPayload: Schema.Number,
      maxTopicLength: Schema.Number,
      maxTopicsPerClient: Schema.Number,
      maxMembersPerTopic: Schema.NullOr(Schema.Number),
      maxBadFrames: Schema.Number,
    }),
  }),
  Schema.Struct({
    type: Schema.Literal('message'),
    topic: Schema.optionalKey(Schema.String),
    from: Schema.optionalKey(Schema.String),
    /** The message's position in its topic's stream (topics with history only). */
    offset: Schema.optionalKey(Schema.Number),
    /** The stream's epoch, beside `offset`: another epoch than the one held means continuity was lost. */
    epoch: Schema.optionalKey(Schema.String),
    data: Schema.Unknown,
  }),
  Schema.Struct({ type: Schema.Literal('joined'), topic: Schema.String, client: MemberSchema }),
  Schema.Struct({ type: Schema.Literal('left'), topic: Schema.String, client: MemberSchema }),
  Schema.Struct({ type: Schema.Literal('ack'), ref: RefSchema, result: Schema.optionalKey(Schema.Unknown) }),
  Schema.Struct({
    type: Schema.Literal('error'),
    ref: Schema.optionalKey(RefSchema),
    code: Schema.String,
    message: Schema.String,
  }),
]);

/** A frame a client may send. */
export type InboundFrame = typeof Inbound.Type;
/** A frame the server sends. */
export type OutboundFrame = typeof Outbound.Type;
export type WelcomeFrame = Extract<OutboundFrame, { type: 'welcome' }>;
export type ProtocolRef = typeof RefSchema.Type;
