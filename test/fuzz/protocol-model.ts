/**
 * An independent model of the JSON protocol's answers (docs/protocol.md), for a hub with no
 * hooks, presence events off, and only this client and a bystander connected: given one
 * inbound message it says which frames come back, in order, and whether the connection
 * closes (the bad-frame threshold, 1008).
 */

export const TYPES = ['subscribe', 'unsubscribe', 'publish', 'send', 'presence', 'ping'] as const;
export type CommandType = (typeof TYPES)[number];
const TOPIC = /^[A-Za-z0-9._:/@-]+$/;

/** Fields of each command in the order the schema checks them; the first bad one is reported. */
export const FIELDS: Record<CommandType, readonly string[]> = {
  subscribe: ['topic', 'ref'],
  unsubscribe: ['topic', 'ref'],
  publish: ['topic', 'data', 'echo', 'ref'],
  send: ['to', 'data', 'ref'],
  presence: ['topic', 'ref', 'limit', 'cursor'],
  ping: ['ref'],
};

export interface Limits {
  readonly maxTopicLength: number;
  readonly maxTopicsPerClient: number;
  readonly maxBadFrames: number;
}

/** A JSON frame the client must receive; `message` given exactly, or as a required prefix. */
export type ExpectedJson =
  | {
      readonly type: 'error';
      readonly code: string;
      readonly ref?: unknown;
      readonly message?: string;
      readonly messagePrefix?: string;
    }
  | { readonly type: 'ack'; readonly ref: unknown; readonly result?: unknown }
  | { readonly type: 'message'; readonly topic?: string; readonly from?: string; readonly dataJson: string };

export interface Answer {
  readonly frames: ExpectedJson[];
  /** The hub closes the connection after these frames. */
  readonly close?: 1008;
  /** Errors the hub logs for this message (encode failures). */
  readonly loggedErrors: number;
}

const own = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const validRef = (v: unknown): boolean =>
  (typeof v === 'string' && v.length <= 64) || (typeof v === 'number' && Number.isFinite(v));

/** Depth of a parsed JSON value, without recursion (the value may be nested thousands deep). */
/** Whether a parsed value holds ±Infinity (iterative: fuzz data nests 12,000 deep). */
function hasInfinity(value: unknown): boolean {
  const todo = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v === Infinity || v === -Infinity) return true;
    if (typeof v === 'object' && v !== null) for (const c of Object.values(v)) todo.push(c);
  }
  return false;
}

export function depthOf(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    max = Math.max(max, d);
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

/** Deepest `data` a publish or send may carry (docs/protocol.md, invalid_data). */
const MAX_DATA_DEPTH = 128;

/** Data nested at most this deep always serialises; at least DEEP_FAILS never does (the engine's stack). */
export const DEEP_OK = 500;
export const DEEP_FAILS = 12_000;

/** What serialising `data` for a recipient gives: its JSON, or undefined when it is too deep to serialise. */
function encodeData(data: unknown): string | undefined {
  const depth = depthOf(data);
  if (depth >= DEEP_FAILS) return undefined;
  if (depth > DEEP_OK)
    throw new Error(`model: data depth ${depth} is between ${DEEP_OK} and ${DEEP_FAILS}; generators must avoid it`);
  return JSON.stringify(data);
}

export class ProtocolModel {
  readonly topics = new Set<string>();
  badFrames = 0;

  constructor(
    readonly limits: Limits,
    readonly selfId: string,
    readonly bystanderId: string,
  ) {}

  #bad(code: string, ref: unknown, message: { message?: string; messagePrefix?: string }): Answer {
    const frame: ExpectedJson = { type: 'error', code, ...(ref === undefined ? {} : { ref }), ...message };
    this.badFrames++;
    return {
      frames: [frame],
      loggedErrors: 0,
      ...(this.badFrames > this.limits.maxBadFrames ? { close: 1008 as const } : {}),
    };
  }

  binary(): Answer {
    return this.#bad('binary_not_supported', undefined, {
      message: 'this hub speaks JSON text frames; binary frames are not accepted',
    });
  }

  text(text: string): Answer {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      return this.#bad('invalid_json', undefined, { message: `not valid JSON: ${(e as Error).message}` });
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      return this.#bad('unknown_type', undefined, { message: 'expected a JSON object with a "type" field' });
    }
    const o = v as Record<string, unknown>;
    const rawRef = o.ref;
    const ref = validRef(rawRef) ? rawRef : undefined;
    const type = o.type;
    if (!own(o, 'type'))
      return this.#bad('invalid_frame', ref, { messagePrefix: 'type: missing key; expected one of ' });
    if (typeof type !== 'string' || !(TYPES as readonly string[]).includes(type)) {
      return this.#bad('unknown_type', ref, { messagePrefix: 'unknown type ' });
    }
    const t = type as CommandType;
    for (const field of FIELDS[t]) {
      if (!this.#fieldOk(field, o)) {
        const topicName = field === 'topic' && typeof o.topic === 'string';
        return this.#bad(topicName ? 'invalid_topic' : 'invalid_frame', ref, {
          messagePrefix: `${t}: ${field}: `,
        });
      }
    }
    return this.#execute(t, o, ref);
  }

  #fieldOk(field: string, o: Record<string, unknown>): boolean {
    const has = own(o, field);
    const v = o[field];
    switch (field) {
      case 'topic':
        return has && typeof v === 'string' && v.length >= 1 && v.length <= this.limits.maxTopicLength && TOPIC.test(v);
      case 'data':
        return has;
      case 'echo':
        return !has || typeof v === 'boolean';
      case 'ref':
        return !has || validRef(v);
      case 'to':
        return has && typeof v === 'string' && v.length >= 1 && v.length <= 256;
      case 'limit':
        return !has || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1);
      case 'cursor':
        return !has || (typeof v === 'string' && v.length >= 1 && v.length <= 256);
      default:
        throw new Error(`model: unknown field ${field}`);
    }
  }

  #execute(t: CommandType, o: Record<string, unknown>, ref: unknown): Answer {
    const frames: ExpectedJson[] = [];
    const ack = (result?: unknown): void => {
      if (ref !== undefined) frames.push(result === undefined ? { type: 'ack', ref } : { type: 'ack', ref, result });
    };
    let loggedErrors = 0;
    const topic = o.topic as string;
    // A number beyond JSON's range (1e999 parses as Infinity) is refused before anything else.
    if ((t === 'publish' || t === 'send') && hasInfinity(o.data)) {
      frames.push({
        type: 'error',
        code: 'invalid_data',
        ...(ref === undefined ? {} : { ref }),
        message: 'data: a number too large for JSON (beyond ±1.8e308, such as 1e999) cannot be delivered',
      });
      return { frames, loggedErrors };
    }
    // Then data nested deeper than a cluster's nodes decode (docs/protocol.md, invalid_data).
    if ((t === 'publish' || t === 'send') && depthOf(o.data) > MAX_DATA_DEPTH) {
      frames.push({
        type: 'error',
        code: 'invalid_data',
        ...(ref === undefined ? {} : { ref }),
        message: `data: nested deeper than ${MAX_DATA_DEPTH} levels`,
      });
      return { frames, loggedErrors };
    }
    switch (t) {
      case 'ping':
        ack();
        break;
      case 'subscribe':
        if (this.topics.has(topic)) ack();
        else if (this.topics.size >= this.limits.maxTopicsPerClient) {
          frames.push({
            type: 'error',
            code: 'too_many_topics',
            ...(ref === undefined ? {} : { ref }),
            message: `a client may join at most ${this.limits.maxTopicsPerClient} topics`,
          });
        } else {
          this.topics.add(topic);
          ack();
        }
        break;
      case 'unsubscribe':
        this.topics.delete(topic);
        ack();
        break;
      case 'publish': {
        const json = encodeData(o.data);
        if (json === undefined) {
          loggedErrors++;
          frames.push({
            type: 'error',
            code: 'encode_failed',
            ...(ref === undefined ? {} : { ref }),
            message: 'the message could not be encoded',
          });
          break;
        }
        const delivered = o.echo === true && this.topics.has(topic) ? 1 : 0;
        if (delivered) frames.push({ type: 'message', topic, from: this.selfId, dataJson: json });
        ack({ delivered, forwarded: 0 });
        break;
      }
      case 'send': {
        const to = o.to as string;
        if (to !== this.selfId && to !== this.bystanderId) {
          frames.push({
            type: 'error',
            code: 'unknown_client',
            ...(ref === undefined ? {} : { ref }),
            message: `no client "${to}" is connected`,
          });
          break;
        }
        const json = encodeData(o.data);
        if (json === undefined) {
          loggedErrors++;
          frames.push({
            type: 'error',
            code: 'encode_failed',
            ...(ref === undefined ? {} : { ref }),
            message: 'the message could not be encoded',
          });
          break;
        }
        if (to === this.selfId) frames.push({ type: 'message', from: this.selfId, dataJson: json });
        ack({ delivered: 1, forwarded: 0 });
        break;
      }
      case 'presence': {
        // Members only (no canSeePresence hook); one member, so any limit and cursor give it or nothing.
        if (!this.topics.has(topic)) {
          frames.push({
            type: 'error',
            code: 'forbidden',
            ...(ref === undefined ? {} : { ref }),
            message: `only members may see the presence of "${topic}"`,
          });
          break;
        }
        const cursor = o.cursor as string | undefined;
        ack({ topic, members: cursor !== undefined && this.selfId <= cursor ? [] : [{ id: this.selfId }], total: 1 });
        break;
      }
    }
    return { frames, loggedErrors };
  }
}

/** Compares a received JSON frame with the expected one; returns why they differ, or undefined. */
export function mismatch(actual: unknown, expected: ExpectedJson): string | undefined {
  const a = actual as Record<string, unknown>;
  const canon = (v: unknown): string => JSON.stringify(v) ?? 'undefined';
  if (a.type !== expected.type) return `type ${canon(a.type)} ≠ ${expected.type}`;
  switch (expected.type) {
    case 'error':
      if (a.code !== expected.code) return `code ${canon(a.code)} ≠ ${expected.code}`;
      if (canon(a.ref) !== canon(expected.ref)) return `ref ${canon(a.ref)} ≠ ${canon(expected.ref)}`;
      if (typeof a.message !== 'string' || a.message.length === 0) return 'error without a message';
      if (expected.message !== undefined && a.message !== expected.message)
        return `message ${canon(a.message)} ≠ ${canon(expected.message)}`;
      if (expected.messagePrefix !== undefined && !a.message.startsWith(expected.messagePrefix)) {
        return `message ${canon(a.message.slice(0, 200))} does not start with ${canon(expected.messagePrefix)}`;
      }
      return undefined;
    case 'ack':
      if (canon(a.ref) !== canon(expected.ref)) return `ref ${canon(a.ref)} ≠ ${canon(expected.ref)}`;
      if (canon(a.result) !== canon(expected.result)) return `result ${canon(a.result)} ≠ ${canon(expected.result)}`;
      return undefined;
    case 'message':
      if (a.topic !== expected.topic || a.from !== expected.from)
        return `topic/from ${canon(a.topic)}/${canon(a.from)} ≠ ${canon(expected.topic)}/${canon(expected.from)}`;
      if (canon(a.data) !== expected.dataJson)
        return `data differs (${canon(a.data).slice(0, 80)} ≠ ${expected.dataJson.slice(0, 80)})`;
      return undefined;
  }
}
