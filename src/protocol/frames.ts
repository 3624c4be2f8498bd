import type { Member, OutboundFrames, Ref, Topic } from '../../machines/hub.types.js';
import type { ClientId, Frame } from '../../machines/client.types.js';
import { encodeFrame } from '../transport/frame.js';
import { REPLAY_BATCH_BYTES } from '../limits.js';
import { PROTOCOL_VERSION, type WelcomeFrame } from './schema.js';

/**
 * Data the caller already serialised to JSON (the hub handle does it, so a bad value throws
 * to the caller): spliced into the envelope as is, so nothing is stringified twice.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

const json = (value: unknown): string => {
  if (value instanceof RawJson) return value.json;
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`cannot send ${typeof value}: it has no JSON form`);
  return text;
};

const text = (body: string) => encodeFrame(body, false);

/**
 * Several whole frames as a few Buffers (a replay of history): each counts as one entry of the
 * client's outbound queue, so a replay of a thousand small messages cannot overflow it by count.
 */
function batch(frames: readonly Frame[]): Frame[] {
  const out: Frame[] = [];
  let run: Buffer[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (run.length > 0) out.push(run.length === 1 ? run[0]! : Buffer.concat(run, bytes));
    run = [];
    bytes = 0;
  };
  for (const frame of frames as readonly Buffer[]) {
    if (bytes > 0 && bytes + frame.byteLength > REPLAY_BATCH_BYTES) flush();
    run.push(frame);
    bytes += frame.byteLength;
  }
  flush();
  return out;
}

/** The JSON protocol: every frame is an envelope (docs/protocol.md), serialised once. */
export function jsonFrames(limits: WelcomeFrame['limits']): OutboundFrames {
  const limitsJson = JSON.stringify(limits);
  return {
    welcome: (id: ClientId) =>
      text(`{"type":"welcome","id":${JSON.stringify(id)},"protocol":${PROTOCOL_VERSION},"limits":${limitsJson}}`),
    message: (
      data: unknown,
      binary: boolean | undefined,
      topic: Topic | undefined,
      from: ClientId | undefined,
      offset?: number,
      epoch?: string,
    ) => {
      if (binary === true || data instanceof Uint8Array || data instanceof ArrayBuffer) {
        throw new TypeError('the JSON protocol carries JSON data only; use protocol "relay" for binary messages');
      }
      const head =
        '{"type":"message"' +
        (topic === undefined ? '' : `,"topic":${JSON.stringify(topic)}`) +
        (from === undefined ? '' : `,"from":${JSON.stringify(from)}`) +
        (offset === undefined ? '' : `,"offset":${offset}`) +
        (epoch === undefined ? '' : `,"epoch":${JSON.stringify(epoch)}`);
      return text(`${head},"data":${json(data)}}`);
    },
    batch,
    joined: (topic: Topic, member: Member) => text(JSON.stringify({ type: 'joined', topic, client: member })),
    left: (topic: Topic, member: Member) => text(JSON.stringify({ type: 'left', topic, client: member })),
    ack: (ref: Ref, result: unknown) =>
      text(
        JSON.stringify(
          result === undefined || (typeof result === 'object' && result !== null && Object.keys(result).length === 0)
            ? { type: 'ack', ref }
            : { type: 'ack', ref, result },
        ),
      ),
    error: (ref: Ref | undefined, code: string, message: string) =>
      text(
        JSON.stringify(ref === undefined ? { type: 'error', code, message } : { type: 'error', ref, code, message }),
      ),
  };
}

/** The seed's relay: messages go out exactly as given; there are no acks, errors or presence frames. */
export const relayFrames: OutboundFrames = {
  welcome: () => undefined,
  message: (data: unknown, binary: boolean | undefined) =>
    encodeFrame(data instanceof RawJson ? data.json : data, binary),
  batch,
  joined: () => undefined,
  left: () => undefined,
  ack: () => undefined,
  error: () => undefined,
};
