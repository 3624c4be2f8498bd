import { randomBytes } from 'node:crypto';
import { connect, headers as natsHeaders, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import {
  DeliverPolicy,
  DiscardPolicy,
  jetstream,
  jetstreamManager,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type MsgRequest,
  type StoredMsg,
} from '@nats-io/jetstream';
import { RECONNECT_BASE_MS } from '../cluster/broker/backoff.js';
import * as L from '../limits.js';
import type {
  HistoryPage,
  HistorySettings,
  HistoryStore,
  StoredMessage,
  StoredNotice,
  StreamPosition,
} from './store.js';

export interface NatsHistoryOptions extends HistorySettings {
  readonly url: string;
  /** The cluster's prefix: one stream per prefix, `actorhub-h-<prefix>`, subjects `actorhub.h.<prefix>.<topic>` (encoded). */
  readonly prefix: string;
  /** This node's id (the connection's name). */
  readonly nodeId: string;
  /**
   * A publish not stored within this is answered unavailable and never stored later, ms. It
   * should not exceed the hub's own wait (HISTORY_COMMAND_TIMEOUT_MS).
   */
  readonly commandTimeoutMs?: number;
  /**
   * Appends that lose the optimistic-concurrency race this many times in a row fail (another node
   * kept winning): bounded, so a hot topic cannot hold a publish forever.
   */
  readonly maxAttempts?: number;
}

/** Headers of a stored message: its place in the topic's stream, and who published it. */
const H = { epoch: 'Actorhub-Epoch', offset: 'Actorhub-Offset', from: 'Actorhub-From', except: 'Actorhub-Except' };

/** JetStream API error codes this store reacts to (nats-server's errors.json). */
const WRONG_LAST_SEQUENCE = 10071;
const STREAM_NOT_FOUND = 10059;

/** Topics and prefixes may hold characters subjects and stream names cannot ('.', '*', '>', spaces): encode them. */
const token = (s: string): string => (s === '' ? '_' : Buffer.from(s).toString('base64url'));
const untoken = (t: string): string => (t === '_' ? '' : Buffer.from(t, 'base64url').toString());

/**
 * STREAM.MSG.GET's "first message of this subject at or after seq" (nats-server 2.9+), which the
 * client's types leave out of MsgRequest: the oldest message a topic still keeps.
 */
const oldestOf = (subject: string): MsgRequest => ({ next_by_subj: subject, seq: 1 }) as unknown as MsgRequest;

/** The stream that holds the history of the cluster with this prefix (tools, tests). */
export const natsHistoryStream = (prefix: string): string => `actorhub-h-${token(prefix)}`;

interface Last {
  /** The stream sequence of the topic's newest message (0: it has none). */
  readonly seq: number;
  readonly offset: number;
  readonly epoch: string;
}

/** A topic's appends, one at a time on this node (they keep their order), and what the last one left. */
interface Lane {
  tail: Promise<unknown>;
  pending: number;
  /** Valid only while appends are queued: what this node's previous append stored. */
  hint?: Last;
}

const isApiError = (error: unknown, code: number): boolean => error instanceof JetStreamApiError && error.code === code;

/** JetStream answers "no responders" when no stream listens on the subject: it was deleted. */
const isNoStream = (error: unknown): boolean =>
  isApiError(error, STREAM_NOT_FOUND) || (error as { name?: string }).name === 'JetStreamNotEnabled';

/**
 * History in NATS JetStream, shared by every node of a cluster (docs/scaling.md#history-across-nodes).
 *
 * One stream per cluster prefix holds every topic, one subject per topic, with JetStream's own
 * per-subject limits: `max_msgs_per_subject` = history size (the oldest are discarded),
 * `max_age` = TTL. JetStream numbers a stream's messages, not a subject's: in a stream of many
 * topics one topic's sequences have holes. So the offset is in the message (a header), and one
 * authority still assigns it: a node reads the topic's newest message (offset n, stream
 * sequence s) and publishes offset n + 1 with `Nats-Expected-Last-Subject-Sequence: s` — the
 * server stores it only if nothing was appended to that topic since; otherwise the node reads
 * again and retries. Offsets of one epoch thus never repeat and never skip, whichever node
 * appends. The epoch is in the message too: a topic with no message left (the stream was
 * deleted, lost, or every message expired) starts a new one.
 *
 * Notifications: every node reads the stream in order through one ordered consumer, and hands
 * each stored message to the hub (onStored). JetStream delivers in stream order, so every node
 * sees a topic's messages in offset order; a read waits until the consumer has passed the newest
 * message it returned, which closes the replay/live seam (docs/architecture.md).
 */
export async function natsHistory(options: NatsHistoryOptions): Promise<HistoryStore> {
  const { size, ttlMs, prefix, nodeId } = options;
  const timeout = options.commandTimeoutMs ?? L.HISTORY_COMMAND_TIMEOUT_MS;
  const maxAttempts = options.maxAttempts ?? L.HISTORY_NATS_MAX_ATTEMPTS;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.url,
      name: `actorhub-history-${nodeId}`,
      maxReconnectAttempts: -1,
      reconnectTimeWait: RECONNECT_BASE_MS * 2,
      reconnectJitter: RECONNECT_BASE_MS,
      pingInterval: 5_000,
      timeout,
    });
  } catch (error) {
    throw new Error(`cannot connect to NATS at ${options.url}: ${(error as Error).message}`, { cause: error });
  }
  const stream = natsHistoryStream(prefix);
  const root = `actorhub.h.${token(prefix)}`;
  const subjectOf = (topic: string): string => `${root}.${token(topic)}`;
  let jsm: JetStreamManager;
  let js: JetStreamClient;
  let up = true;
  let closed = false;
  let failed = 0;
  const lanes = new Map<string, Lane>();
  const candidate = () => randomBytes(9).toString('base64url');

  /** The stream with this hub's limits: created when missing, updated when another config left it different. */
  const ensureStream = async (): Promise<void> => {
    const config = {
      name: stream,
      subjects: [`${root}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_msgs_per_subject: size,
      max_age: ttlMs * 1_000_000,
      // Must not exceed max_age; publishes carry no message id, so any short window will do.
      duplicate_window: Math.min(ttlMs, 1_000) * 1_000_000,
      num_replicas: 1,
    };
    try {
      await jsm.streams.add(config);
    } catch (error) {
      // Already there with other limits (another node, an earlier deployment): ours win, as every
      // node of one cluster is meant to run with the same --history-size and --history-ttl.
      await jsm.streams.update(stream, config);
    }
  };

  try {
    jsm = await jetstreamManager(nc, { timeout: timeout / 5 });
    js = jetstream(nc, { timeout: timeout / 5 });
    await ensureStream();
  } catch (error) {
    await nc.close().catch(() => undefined);
    throw new Error(`cannot use JetStream at ${options.url}: ${(error as Error).message}`, { cause: error });
  }
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnecting') up = false;
      else if (s.type === 'reconnect') up = true;
    }
  })();

  /** Fails at once while disconnected: nats.js would buffer the publish and send it after the refusal. */
  const connected = (): void => {
    if (closed) throw new Error('the history store is closed');
    if (!up) throw new Error(`NATS at ${options.url} is unreachable`);
  };

  /** Runs a JetStream call, recreating the stream once when it was deleted. */
  const withStream = async <T>(call: () => Promise<T>): Promise<T> => {
    connected();
    try {
      return await call();
    } catch (error) {
      if (!isNoStream(error)) throw error;
      await ensureStream();
      return call();
    }
  };

  const lastOf = (msg: StoredMsg | null): Last | undefined => {
    if (!msg) return undefined;
    return {
      seq: msg.seq,
      offset: Number(msg.header.get(H.offset) || '0'),
      epoch: msg.header.get(H.epoch) || '',
    };
  };

  const newest = async (subject: string): Promise<Last | undefined> =>
    lastOf(await withStream(() => jsm.streams.getMessage(stream, { last_by_subj: subject })));

  /** One try: offset `last.offset + 1` if nothing was stored on the topic since `last`. */
  const tryPublish = async (
    subject: string,
    last: Last | undefined,
    h: MsgHdrs,
    data: string,
    marker = false,
  ): Promise<Last> => {
    const offset = marker ? 0 : last ? last.offset + 1 : 1;
    const epoch = last?.epoch || candidate();
    h.set(H.epoch, epoch);
    h.set(H.offset, String(offset));
    connected();
    const ack = await js.publish(subject, data, { headers: h, expect: { lastSubjectSequence: last?.seq ?? 0 } });
    return { seq: ack.seq, offset, epoch };
  };

  const appendOnce = async (
    topic: string,
    lane: Lane,
    from: string | undefined,
    except: string | undefined,
    data: string,
    deadline: number,
  ) => {
    // Past its deadline its caller is (about to be) answered unavailable: never store it after that.
    const due = (): void => {
      if (Date.now() > deadline) throw new Error(`not stored within ${timeout} ms`);
    };
    const subject = subjectOf(topic);
    let last = lane.hint;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      due();
      if (last === undefined) last = await newest(subject);
      due();
      const h = natsHeaders();
      if (from !== undefined) h.set(H.from, from);
      if (except !== undefined) h.set(H.except, except);
      try {
        return await tryPublish(subject, last, h, data);
      } catch (error) {
        if (isApiError(error, WRONG_LAST_SEQUENCE)) {
          last = undefined; // another node appended meanwhile: read again
          continue;
        }
        if (isNoStream(error)) {
          await ensureStream();
          last = undefined;
          continue;
        }
        throw error;
      }
    }
    throw new Error(`the topic's stream kept changing under ${maxAttempts} attempts to append`);
  };

  /** A topic that has no message yet gets an epoch marker (offset 0, no data), so that its epoch outlives the first append. */
  const position = async (topic: string): Promise<Last> => {
    const subject = subjectOf(topic);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const last = await newest(subject);
      if (last) return last;
      try {
        return await tryPublish(subject, undefined, natsHeaders(), '', true);
      } catch (error) {
        if (!isApiError(error, WRONG_LAST_SEQUENCE) && !isNoStream(error)) throw error;
      }
    }
    throw new Error(`the topic's stream kept changing under ${maxAttempts} attempts to read its position`);
  };

  // --- notifications: one ordered consumer over the whole stream ---------------------------
  let listener: ((notice: StoredNotice) => void) | undefined;
  /** The stream sequence the consumer has handed over (everything up to it reached the listener). */
  let passed = 0;
  let waiters: { seq: number; resolve: () => void }[] = [];
  const release = (): void => {
    if (waiters.length === 0) return;
    const still: typeof waiters = [];
    for (const w of waiters) {
      if (w.seq <= passed) w.resolve();
      else still.push(w);
    }
    waiters = still;
  };
  const passedSeq = (seq: number): Promise<void> =>
    listener === undefined || seq <= passed
      ? Promise.resolve()
      : new Promise((resolve) => waiters.push({ seq, resolve }));

  /** The stream's creation time as the consumer last saw it: another one means it was deleted and recreated. */
  let generation: string | undefined;
  const consume = async (): Promise<void> => {
    while (!closed) {
      try {
        connected();
        const info = await jsm.streams.info(stream);
        // First start: notifications begin now (older messages are history). A recreated stream:
        // all it holds is new, from its first sequence.
        if (generation === undefined) passed = info.state.last_seq;
        else if (info.created !== generation) passed = 0;
        generation = info.created;
        const consumer = await js.consumers.get(stream, {
          filter_subjects: `${root}.>`,
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: passed + 1,
        });
        const messages = await consumer.consume();
        stopConsuming = () => void messages.close();
        // The ordered consumer resumes by itself after a cut, but after the stream was deleted it
        // would resume at the old sequence in the new stream: watch for that and start over.
        const watch = setInterval(() => {
          jsm.streams.info(stream).then(
            (now) => {
              if (now.created !== generation) void messages.close();
            },
            () => undefined, // down, or deleted and not recreated yet: looked at again next time
          );
        }, L.HISTORY_NATS_WATCH_MS);
        try {
          for await (const m of messages) {
            deliverStored(m);
            passed = m.seq;
            release();
            if (closed) break;
          }
        } finally {
          clearInterval(watch);
        }
      } catch {
        // Disconnected, the stream gone: start again after a pause.
      }
      if (!closed) await new Promise((r) => setTimeout(r, RECONNECT_BASE_MS * 2));
    }
  };
  const deliverStored = (m: JsMsg): void => {
    const offset = Number(m.headers?.get(H.offset) || '0');
    const epoch = m.headers?.get(H.epoch) ?? '';
    if (offset < 1 || epoch === '') return; // an epoch marker, or not ours
    let topic: string;
    try {
      topic = untoken(m.subject.slice(root.length + 1));
    } catch {
      return;
    }
    const from = m.headers?.get(H.from) || undefined;
    const except = m.headers?.get(H.except) || undefined;
    try {
      listener?.({
        topic,
        offset,
        epoch,
        data: m.string(),
        ...(from === undefined ? {} : { from }),
        ...(except === undefined ? {} : { except }),
      });
    } catch {
      // The hub drops what it cannot use; a listener that throws must not stop the consumer.
    }
  };
  let stopConsuming = (): void => undefined;

  const read = async (
    topic: string,
    after: number | undefined,
    limit: number,
  ): Promise<HistoryPage & { seq: number }> => {
    const subject = subjectOf(topic);
    const top = await position(topic);
    const oldest = lastOf(await withStream(() => jsm.streams.getMessage(stream, oldestOf(subject))));
    // The marker (offset 0) is not a message: the oldest message then is offset 1 (or none yet).
    const first = oldest === undefined ? top.offset + 1 : Math.max(oldest.offset, 1);
    const base = { epoch: top.epoch, offset: top.offset, first, seq: top.seq };
    const from = after === undefined ? Math.max(first, top.offset - limit + 1) : Math.max(first, after + 1);
    if (limit === 0 || oldest === undefined || from > top.offset) return { ...base, messages: [] };
    const count = Math.min(limit, top.offset - from + 1);
    // A topic's sequences grow at least as fast as its offsets: offset `from` is no earlier than this.
    const start = oldest.seq + (from - oldest.offset);
    const consumer = await withStream(() =>
      js.consumers.get(stream, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: start,
      }),
    );
    const messages: StoredMessage[] = [];
    const iter = await consumer.consume({ max_messages: Math.min(count, 1_000) });
    try {
      for await (const m of iter) {
        const offset = Number(m.headers?.get(H.offset) || '0');
        if (offset >= from && offset <= top.offset && (m.headers?.get(H.epoch) ?? '') === top.epoch) {
          const f = m.headers?.get(H.from) || undefined;
          messages.push(f === undefined ? { offset, data: m.string() } : { offset, from: f, data: m.string() });
        }
        if (messages.length >= count || m.seq >= top.seq || offset >= top.offset || m.info.pending === 0) break;
      }
    } finally {
      await iter.close();
    }
    // Appends trimmed the oldest while this read ran: what it returns starts later, and says so.
    const kept = messages[0]?.offset ?? top.offset + 1;
    return { ...base, first: kept > from ? kept : first, messages };
  };

  const within = <T>(p: Promise<T>, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} took longer than ${timeout} ms`)), timeout);
      p.then(
        (v) => (clearTimeout(timer), resolve(v)),
        (e: unknown) => (clearTimeout(timer), reject(e as Error)),
      );
    });

  return {
    kind: 'nats',
    synchronous: false,
    append(topic, message): Promise<StreamPosition> {
      let lane = lanes.get(topic);
      if (!lane) lanes.set(topic, (lane = { tail: Promise.resolve(), pending: 0 }));
      const l = lane;
      l.pending++;
      // Its last request starts by 3/4 of the timeout and lasts at most 1/5: answered within the timeout.
      const deadline = Date.now() + timeout * 0.75;
      const result = l.tail.then(() =>
        appendOnce(topic, l, message.from, message.except, message.data, deadline).then(
          (last) => {
            l.hint = last;
            return { epoch: last.epoch, offset: last.offset };
          },
          (error: unknown) => {
            l.hint = undefined;
            failed++;
            throw error;
          },
        ),
      );
      const settled = result.then(
        () => undefined,
        () => undefined,
      );
      l.tail = settled;
      void settled.then(() => {
        // Idle: forget the hint (another node may append before this one's next publish).
        if (--l.pending === 0 && lanes.get(topic) === l) lanes.delete(topic);
      });
      // No timer of its own: each JetStream request times out, and so does a turn that came too late.
      return result;
    },
    position: async (topic) => {
      const { epoch, offset } = await within(position(topic), 'reading the position');
      return { epoch, offset };
    },
    async read(topic, { after, limit }) {
      const page = await within(read(topic, after, limit), 'reading the history');
      // Everything up to the newest message read has reached this node's hub: no gap, no duplicate at the seam.
      await within(passedSeq(page.seq), 'waiting for the notifications');
      return { epoch: page.epoch, offset: page.offset, first: page.first, messages: page.messages };
    },
    onStored(l) {
      listener = l;
      void consume();
    },
    stats: () => ({ failed }),
    async close() {
      closed = true;
      stopConsuming();
      for (const w of waiters) w.resolve();
      waiters = [];
      await nc.drain().catch(() => nc.close());
    },
  };
}
