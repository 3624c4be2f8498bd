import { Result, Schema } from 'effect';
import type { ProtocolErrorCode } from './error-codes.js';
import { INBOUND_TYPES, makeInbound, type InboundFrame, type ProtocolRef } from './schema.js';

export type Decoded =
  | { readonly ok: true; readonly frame: InboundFrame }
  | {
      readonly ok: false;
      readonly code: ProtocolErrorCode;
      readonly message: string;
      readonly ref: ProtocolRef | undefined;
    };

/** "Expected string\n  at ["topic"]" → "topic: expected string". */
const describe = (message: string): { path: string | undefined; text: string } => {
  const at = /\n\s*at \[(.*)\]\s*$/s.exec(message);
  const text = message.replace(/\n\s*at \[.*\]\s*$/s, '').trim();
  const path = at?.[1]?.replace(/"/g, '').replace(/,/g, '.');
  const lower = text.charAt(0).toLowerCase() + text.slice(1);
  return { path, text: path ? `${path}: ${lower}` : lower };
};

/** A `type` as the error message shows it: never serialise an arbitrary value (a deeply nested one overflows the stack). */
const showType = (type: unknown): string =>
  typeof type === 'string'
    ? JSON.stringify(type)
    : Array.isArray(type)
      ? 'array'
      : type === null
        ? 'null'
        : typeof type === 'object'
          ? 'object'
          : String(type);

const refOf = (value: unknown): ProtocolRef | undefined => {
  const ref = (value as { ref?: unknown } | null)?.ref;
  return (typeof ref === 'string' && ref.length <= 64) || (typeof ref === 'number' && Number.isFinite(ref))
    ? ref
    : undefined;
};

/**
 * Decodes one inbound text frame with effect/Schema (`fromJsonString` of the inbound union).
 * A failure says exactly what was wrong — bad JSON, unknown type, or which field — and
 * carries the frame's `ref` when one could be read, so the error can answer the command.
 */
export function makeDecoder(maxTopicLength: number): (text: string) => Decoded {
  const decode = Schema.decodeUnknownResult(Schema.fromJsonString(makeInbound(maxTopicLength)), { errors: 'first' });
  return (text) => {
    const result = decode(text);
    if (Result.isSuccess(result)) return { ok: true, frame: result.success };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return {
        ok: false,
        code: 'invalid_json',
        message: `not valid JSON: ${(error as Error).message}`,
        ref: undefined,
      };
    }
    const ref = refOf(value);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      return { ok: false, code: 'unknown_type', message: 'expected a JSON object with a "type" field', ref: undefined };
    }
    const type = (value as { type?: unknown }).type;
    // A missing field is invalid_frame (docs/protocol.md), `type` included.
    if (!Object.hasOwn(value, 'type')) {
      return {
        ok: false,
        code: 'invalid_frame',
        message: `type: missing key; expected one of ${INBOUND_TYPES.join(', ')}`,
        ref,
      };
    }
    if (typeof type !== 'string' || !(INBOUND_TYPES as readonly string[]).includes(type)) {
      return {
        ok: false,
        code: 'unknown_type',
        message: `unknown type ${showType(type)}; expected one of ${INBOUND_TYPES.join(', ')}`,
        ref,
      };
    }
    const { path, text: detail } = describe(result.failure.message);
    // invalid_topic only for a topic that is there and a string but not a valid name; a missing
    // or non-string topic is a malformed frame like any other missing or mistyped field.
    const topicName = path === 'topic' && typeof (value as { topic?: unknown }).topic === 'string';
    return {
      ok: false,
      code: topicName ? 'invalid_topic' : 'invalid_frame',
      message: `${type}: ${detail}`,
      ref,
    };
  };
}
