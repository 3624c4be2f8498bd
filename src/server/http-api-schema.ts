import { Result, Schema } from 'effect';
import { TOPIC_PATTERN } from '../../machines/topic-index.js';

const ClientIdSchema = Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(256));

/** The HTTP API's request bodies (docs/observability.md). Unknown fields are refused: they are usually typos. */
export const makeApiSchemas = (maxTopicLength: number) => {
  const topic = Schema.String.check(
    Schema.isMinLength(1),
    Schema.isMaxLength(maxTopicLength),
    Schema.isPattern(TOPIC_PATTERN),
  );
  return {
    /** No topic: to every client of the hub (a broadcast). */
    publish: Schema.Struct({
      topic: Schema.optionalKey(topic),
      data: Schema.Unknown,
      except: Schema.optionalKey(ClientIdSchema),
    }),
    send: Schema.Struct({ to: ClientIdSchema, data: Schema.Unknown }),
  };
};

/** "Expected string\n  at ["topic"]" → "topic: expected string". */
const oneLine = (message: string): string => {
  const at = /\n\s*at \[(.*)\]\s*$/s.exec(message);
  const text = message.replace(/\n\s*at \[.*\]\s*$/s, '').trim();
  const lower = text.charAt(0).toLowerCase() + text.slice(1);
  const path = at?.[1]?.replace(/"/g, '').replace(/,/g, '.');
  return path ? `${path}: ${lower}` : lower;
};

/** Decodes a parsed JSON body; a failure is one line naming the field. */
export const decoderOf = <S extends Schema.Top>(schema: S) => {
  const decode = Schema.decodeUnknownResult(schema as never, { errors: 'first', onExcessProperty: 'error' }) as (
    input: unknown,
  ) => Result.Result<S['Type'], { message: string }>;
  return (value: unknown): { ok: true; value: S['Type'] } | { ok: false; message: string } => {
    const r = decode(value);
    return Result.isSuccess(r) ? { ok: true, value: r.success } : { ok: false, message: oneLine(r.failure.message) };
  };
};
