import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJsonBody } from './http-body.js';
import { decoderOf, makeApiSchemas } from './http-api-schema.js';
import { sendJson } from './http-json.js';
import type { Hub } from '../types.js';
import { PublishError } from '../errors.js';
import { HistoryError } from '../history/read.js';
import { TOPIC_PATTERN } from '../../machines/topic-index.js';
import { API_MAX_BODY_BYTES, API_MAX_DATA_DEPTH } from '../limits.js';
import type { Logger } from '../observability/logger.js';
import { NON_FINITE_MESSAGE } from '../protocol/finite-data.js';

export interface HttpApiOptions {
  /** The bearer key callers must send (`Authorization: Bearer <key>`). Absent: every API route answers 404 api_disabled. */
  readonly apiKey: string | undefined;
  /** Largest request body, bytes (default API_MAX_BODY_BYTES); larger gets 413. */
  readonly maxBodyBytes?: number;
  /** Deepest nesting of a request's `data` (default API_MAX_DATA_DEPTH); deeper gets 400 invalid_body. */
  readonly maxDataDepth?: number;
  /** Where the routes live (default "/api"): <prefix>/publish, <prefix>/send, <prefix>/stats, <prefix>/history. */
  readonly prefix?: string;
  readonly logger?: Logger;
}

/** Handles one request; false when its path is not under the prefix (let the caller answer it). */
export type HttpApiHandler = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The stable `error` codes of the HTTP API's answers. */
export type HttpApiErrorCode =
  | 'not_found'
  | 'api_disabled'
  | 'method_not_allowed'
  | 'unauthorized'
  | 'unsupported_media_type'
  | 'payload_too_large'
  | 'invalid_json'
  | 'invalid_body'
  | 'unknown_client'
  | 'shutting_down'
  | 'no_history'
  | 'unavailable'
  | 'internal';

const ROUTES: Record<string, readonly string[]> = {
  '/publish': ['POST'],
  '/send': ['POST'],
  '/stats': ['GET', 'HEAD'],
  '/history': ['GET', 'HEAD'],
};

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Why `data` (a parsed JSON value) cannot be sent on as it came, or undefined: nested deeper
 * than `maxDepth` (serialising it would overflow the stack), or a number JSON cannot carry
 * (`1e999` parses as Infinity, which JSON.stringify would turn into null without a word).
 * Iterative: the value may be nested 100,000 deep.
 */
export function dataProblem(data: unknown, maxDepth: number): string | undefined {
  const stack: unknown[] = [data];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const v = stack.pop();
    const d = depths.pop()!;
    if (typeof v === 'number' && !Number.isFinite(v)) return NON_FINITE_MESSAGE;
    if (typeof v !== 'object' || v === null) continue;
    if (d + 1 > maxDepth) return `nested deeper than ${maxDepth} levels`;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      stack.push(child);
      depths.push(d + 1);
    }
  }
  return undefined;
}

/**
 * The Centrifugo-style HTTP API, for backends that are not WebSocket clients:
 * POST /api/publish { topic?, data, except? }, POST /api/send { to, data }, GET /api/stats.
 * Bearer-key guarded (compared in constant time), bodies decoded with effect/Schema.
 * Answers count local recipients; in a cluster the message also goes to the other nodes.
 */
export function createHttpApi(hub: Hub, options: HttpApiOptions): HttpApiHandler {
  const prefix = options.prefix ?? '/api';
  const maxBodyBytes = options.maxBodyBytes ?? API_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0)
    throw new RangeError(`maxBodyBytes must be a positive integer, got ${maxBodyBytes}.`);
  const maxDataDepth = options.maxDataDepth ?? API_MAX_DATA_DEPTH;
  if (!Number.isSafeInteger(maxDataDepth) || maxDataDepth <= 0)
    throw new RangeError(`maxDataDepth must be a positive integer, got ${maxDataDepth}.`);
  const keyDigest = options.apiKey === undefined || options.apiKey === '' ? undefined : digest(options.apiKey);
  const schemas = makeApiSchemas(hub.options.topics.maxTopicLength);
  const decodePublish = decoderOf(schemas.publish);
  const decodeSend = decoderOf(schemas.send);
  const maxTopicLength = hub.options.topics.maxTopicLength;
  const topicOk = (t: string): boolean => t.length > 0 && t.length <= maxTopicLength && TOPIC_PATTERN.test(t);
  const logger = options.logger;

  const authorized = (req: IncomingMessage): boolean => {
    const match = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    // Digests have one length, so the comparison never leaks the key's length or a prefix.
    return keyDigest !== undefined && match !== null && timingSafeEqual(digest(match[1]!), keyDigest);
  };

  const fail = (res: ServerResponse, status: number, error: HttpApiErrorCode, message: string, headers = {}): void => {
    sendJson(res, status, { error, message }, headers);
  };

  /**
   * Recipients on this node and, in a cluster, recipients on the other nodes this node knows
   * of (the message went to the broker for them): the same two counts as a publish ack.
   */
  const answer = (res: ServerResponse, delivered: number, forwarded: () => number): void =>
    sendJson(res, 200, hub.clusterStats() === undefined ? { delivered } : { delivered, forwarded: forwarded() });

  const stats = (res: ServerResponse): void => {
    const cluster = hub.clusterStats();
    sendJson(res, 200, {
      clients: hub.size,
      topics: hub.topics().map(({ topic, members }) => ({ topic, members })),
      ...(cluster ? { cluster: { node: cluster.node, nodes: cluster.nodes, broker: cluster.broker.state } } : {}),
    });
  };

  /** GET /api/history?topic=…&limit=…[&since=<offset>&epoch=<epoch>]: a page of a topic's history. */
  const history = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    const topic = query.get('topic') ?? '';
    if (!topicOk(topic)) return fail(res, 400, 'invalid_body', `topic: expected a topic name, got "${topic}"`);
    const int = (name: string, min: number): number | undefined | Error => {
      const raw = query.get(name);
      if (raw === null) return undefined;
      const n = Number(raw);
      return /^\d+$/.test(raw) && Number.isSafeInteger(n) && n >= min
        ? n
        : new Error(`${name}: expected an integer ≥ ${min}, got "${raw}"`);
    };
    const limit = int('limit', 1);
    const since = int('since', 0);
    const epoch = query.get('epoch');
    for (const v of [limit, since]) if (v instanceof Error) return fail(res, 400, 'invalid_body', v.message);
    if ((since === undefined) !== (epoch === null))
      return fail(res, 400, 'invalid_body', 'since and epoch go together: the position of the last message seen');
    try {
      const page = await hub.history(topic, {
        limit: limit as number | undefined,
        since: since === undefined ? undefined : { offset: since as number, epoch: epoch! },
      });
      sendJson(res, 200, page);
    } catch (error) {
      if (error instanceof HistoryError && error.code !== 'invalid_frame')
        return fail(res, error.code === 'no_history' ? 404 : 503, error.code, error.message);
      throw error;
    }
  };

  /** A publish into a topic with history waits for its offset; 503 unavailable when it could not be stored. */
  const publishStored = async (res: ServerResponse, topic: string, data: unknown, except?: string): Promise<void> => {
    try {
      const r = await hub.publishConfirmed(topic, data, { except });
      const clustered = hub.clusterStats() !== undefined;
      sendJson(res, 200, {
        delivered: r.delivered,
        offset: r.offset,
        epoch: r.epoch,
        ...(clustered ? { forwarded: r.forwarded ?? 0 } : {}),
      });
    } catch (error) {
      if (error instanceof PublishError && error.code === 'unavailable')
        return fail(res, 503, 'unavailable', error.message);
      if (error instanceof PublishError && error.code === 'shutting_down')
        return fail(res, 503, 'shutting_down', error.message);
      throw error;
    }
  };

  const dispatch = (res: ServerResponse, route: string, value: unknown): void | Promise<void> => {
    // What JSON.parse accepts but the hub cannot send on as it came: refused here, with a reason.
    const problem = dataProblem((value as { data?: unknown } | null)?.data, maxDataDepth);
    if (problem !== undefined) return fail(res, 400, 'invalid_body', `data: ${problem}`);
    if (route === '/publish') {
      const body = decodePublish(value);
      if (!body.ok) return fail(res, 400, 'invalid_body', body.message);
      const { topic, data, except } = body.value;
      if (topic !== undefined && hub.keepsHistory(topic)) return publishStored(res, topic, data, except);
      if (topic !== undefined) {
        const delivered = hub.publish(topic, data, { except });
        return answer(res, delivered, () => hub.forwardedTo({ topic, except }));
      }
      const delivered = hub.size - (except !== undefined && hub.has(except) ? 1 : 0);
      hub.broadcast(data, { except });
      return answer(res, delivered, () => hub.forwardedTo({ except }));
    }
    const body = decodeSend(value);
    if (!body.ok) return fail(res, 400, 'invalid_body', body.message);
    const { to, data } = body.value;
    const local = hub.has(to);
    // Not here: the hub routes it to the node that has the client, if any node does.
    if (!local && !hub.reachable(to)) {
      return fail(res, 404, 'unknown_client', `no client "${to}" is connected`);
    }
    hub.send(to, data);
    answer(res, local ? 1 : 0, () => (local ? 0 : 1));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, route: string, early: object): Promise<void> => {
    if (route === '/stats') return stats(res);
    if (route === '/history') return history(req, res);
    const read = await readJsonBody(req, maxBodyBytes);
    if (!read.ok) {
      if (read.status === 0) return; // the caller went away
      return fail(res, read.status, read.code, read.message, early);
    }
    let value: unknown;
    try {
      value = JSON.parse(read.body.toString('utf8'));
    } catch (error) {
      return fail(res, 400, 'invalid_json', `not valid JSON: ${(error as Error).message}`);
    }
    if (hub.closing) return fail(res, 503, 'shutting_down', 'the hub is shutting down');
    return dispatch(res, route, value);
  };

  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    // Refusals before the body is read close the connection rather than drain an unread body.
    const early = { connection: 'close' };
    if (path !== prefix && !path.startsWith(`${prefix}/`)) return false;
    const route = path.slice(prefix.length);
    const methods = ROUTES[route];
    if (!methods) {
      fail(
        res,
        404,
        'not_found',
        `no API route ${path}; the routes are ${Object.keys(ROUTES)
          .map((r) => prefix + r)
          .join(', ')}`,
        early,
      );
    } else if (keyDigest === undefined) {
      fail(
        res,
        404,
        'api_disabled',
        'the HTTP API is disabled: start the hub with an API key (--api-key or ACTORHUB_API_KEY)',
        early,
      );
    } else if (!methods.includes(req.method ?? '')) {
      fail(res, 405, 'method_not_allowed', `${path} accepts ${methods.join(', ')}`, {
        ...early,
        allow: methods.join(', '),
      });
    } else if (!authorized(req)) {
      logger?.info({ route: path, remote: req.socket.remoteAddress }, 'HTTP API: missing or wrong key');
      fail(res, 401, 'unauthorized', 'send Authorization: Bearer <API key>', {
        ...early,
        'www-authenticate': 'Bearer realm="actorhub"',
      });
    } else {
      handle(req, res, route, early).then(
        () => logger?.debug({ route: path, status: res.statusCode }, 'HTTP API request'),
        (err: unknown) => {
          logger?.error({ err, route: path }, 'HTTP API request failed');
          if (!res.headersSent) fail(res, 500, 'internal', 'internal error');
        },
      );
    }
    return true;
  };
}
