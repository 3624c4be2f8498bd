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
  /**
   * The notifications consumer handed nothing over for this long while the stream holds records
   * after the last one it did: it is replaced by a new one that starts after that record, ms.
   */
  readonly stallMs?: number;
}

/** Headers of a stored message: its place in the topic's stream, and who published it. */
const H = {
  epoch: 'Actorhub-Epoch',
  /** The offset of the record's last message. */
  offset: 'Actorhub-Offset',
  /** How many messages the record holds (absent: one; 0: an epoch marker). */
  count: 'Actorhub-Count',
  from: 'Actorhub-From',
  except: 'Actorhub-Except',
};

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

/** One publish waiting for its offset. */
interface Pending {
  readonly from: string | undefined;
  readonly except: string | undefined;
  readonly data: string;
  /** Not started by then, it fails unstored: its caller is answered unavailable about then. */
  readonly deadline: number;
  readonly resolve: (position: StreamPosition) => void;
  readonly reject: (error: Error) => void;
}

/** A topic's appends on this node: queued, stored one record at a time (they keep their order). */
interface Lane {
  readonly queue: Pending[];
  /** Valid only while the lane is busy: what this node's previous record stored. */
  hint: Last | undefined;
}

/** How many messages a record holds (an epoch marker: 0). */
const recordCount = (msg: { header: MsgHdrs }): number =>
  msg.header.has(H.count) ? Number(msg.header.get(H.count)) : 1;

/** A stored record's messages (a record holds one, or a batch of consecutive offsets). */
const unpack = (msg: { headers?: MsgHdrs | undefined; string(): string }): StoredNotice[] => {
  const h = msg.headers;
  const last = Number(h?.get(H.offset) || '0');
  const epoch = h?.get(H.epoch) ?? '';
  const count = h?.has(H.count) ? Number(h.get(H.count)) : 1;
  if (epoch === '' || !Number.isSafeInteger(last) || !Number.isSafeInteger(count) || count < 1 || last < count)
    return []; // an epoch marker (count 0), or not ours
  if (count === 1) {
    const from = h?.get(H.from) || undefined;
    const except = h?.get(H.except) || undefined;
    return [
      {
        topic: '',
        epoch,
        offset: last,
        data: msg.string(),
        ...(from === undefined ? {} : { from }),
        ...(except === undefined ? {} : { except }),
      },
    ];
  }
  let entries: unknown;
  try {
    entries = JSON.parse(msg.string());
  } catch {
    return [];
  }
  if (!Array.isArray(entries) || entries.length !== count) return [];
  return entries.map((entry: unknown, i) => {
    const [from, except, data] = Array.isArray(entry) ? (entry as unknown[]) : [];
    return {
      topic: '',
      epoch,
      offset: last - count + 1 + i,
      data: JSON.stringify(data ?? null),
      ...(typeof from === 'string' ? { from } : {}),
      ...(typeof except === 'string' ? { except } : {}),
    };
  });
};

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
  const stallMs = options.stallMs ?? L.HISTORY_NATS_STALL_MS;
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

  /**
   * One try at storing a record after `last` (nothing: the topic has no message): it is stored
   * only if nothing was appended to the topic since. `batch` empty: an epoch marker.
   */
  const tryPublish = async (subject: string, last: Last | undefined, batch: readonly Pending[]): Promise<Last> => {
    const offset = (last?.offset ?? 0) + batch.length;
    const epoch = last?.epoch || candidate();
    const h = natsHeaders();
    h.set(H.epoch, epoch);
    h.set(H.offset, String(offset));
    let body: string;
    if (batch.length === 1) {
      const [one] = batch as [Pending];
      if (one.from !== undefined) h.set(H.from, one.from);
      if (one.except !== undefined) h.set(H.except, one.except);
      body = one.data;
    } else {
      h.set(H.count, String(batch.length));
      body = `[${batch.map((p) => `[${JSON.stringify(p.from ?? null)},${JSON.stringify(p.except ?? null)},${p.data}]`).join(',')}]`;
    }
    connected();
    const ack = await js.publish(subject, body, { headers: h, expect: { lastSubjectSequence: last?.seq ?? 0 } });
    return { seq: ack.seq, offset, epoch };
  };

  /** Stores one record of the queued publishes, reading the topic's newest record again when another node appended meanwhile. */
  const store = async (topic: string, lane: Lane, batch: readonly Pending[], deadline: number): Promise<Last> => {
    const due = (): void => {
      if (Date.now() > deadline) throw new Error(`not stored within ${timeout} ms`);
    };
    const subject = subjectOf(topic);
    let last = lane.hint;
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      due();
      if (last === undefined) last = await newest(subject);
      due();
      try {
        return await tryPublish(subject, last, batch);
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

  /**
   * Drains a lane: whatever queued while the previous record was being stored goes out as the
   * next record (up to HISTORY_NATS_MAX_BATCH messages / _BYTES), so a burst costs one round trip
   * per record instead of one per message.
   */
  const drain = async (topic: string, lane: Lane): Promise<void> => {
    while (lane.queue.length > 0) {
      const now = Date.now();
      const batch: Pending[] = [];
      let bytes = 0;
      while (lane.queue.length > 0 && batch.length < L.HISTORY_NATS_MAX_BATCH) {
        const next = lane.queue[0]!;
        if (next.deadline < now) {
          lane.queue.shift();
          failed++;
          next.reject(new Error(`not stored within ${timeout} ms (queued behind earlier publishes)`));
          continue;
        }
        if (batch.length > 0 && bytes + next.data.length > L.HISTORY_NATS_MAX_BATCH_BYTES) break;
        bytes += next.data.length;
        batch.push(lane.queue.shift()!);
      }
      if (batch.length === 0) continue;
      try {
        const last = await store(topic, lane, batch, Math.min(...batch.map((p) => p.deadline)));
        lane.hint = last;
        batch.forEach((p, i) => p.resolve({ epoch: last.epoch, offset: last.offset - batch.length + 1 + i }));
      } catch (error) {
        lane.hint = undefined;
        failed += batch.length;
        for (const p of batch) p.reject(error as Error);
      }
    }
    // Idle: forget the hint (another node may append before this one's next publish).
    lanes.delete(topic);
  };

  /** A topic that has no message yet gets an epoch marker (offset 0, no data), so that its epoch outlives the first append. */
  const position = async (topic: string): Promise<Last> => {
    const subject = subjectOf(topic);
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const last = await newest(subject);
      if (last) return last;
      try {
        return await tryPublish(subject, undefined, []);
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
        // It also stalls with records waiting (docs/scaling.md#history-across-nodes): with the
        // event loop saturated its pings go unanswered, the connection is dropped as stale, and
        // the consumer it recreates after the reconnect delivered one record and then nothing
        // until two idle heartbeats were missed (30 s with consume()'s defaults); a consumer
        // deleted on the server stalls the same way. Nothing handed over for stallMs while the
        // stream holds more: start a new consumer after the last record handed over, so nothing
        // is lost or repeated.
        let seen = passed;
        let since = Date.now();
        const watch = setInterval(
          () => {
            jsm.streams.info(stream).then(
              (now) => {
                if (now.created !== generation) return void messages.close();
                const waiting = now.state.messages > 0 && now.state.last_seq > passed;
                if (passed !== seen || !waiting) {
                  seen = passed;
                  since = Date.now();
                } else if (Date.now() - since >= stallMs) void messages.close();
              },
              () => undefined, // down, or deleted and not recreated yet: looked at again next time
            );
          },
          Math.min(L.HISTORY_NATS_WATCH_MS, stallMs),
        );
        try {
          let slice = Date.now();
          for await (const m of messages) {
            deliverStored(m);
            passed = m.seq;
            release();
            if (closed) break;
            // The iterator hands over what it holds in microtasks, never returning to the event
            // loop: with a backlog and a costly fan-out, sockets went unread (the connection's
            // pings unanswered, dropped as stale). Let I/O and timers in now and then.
            if (Date.now() - slice >= L.HISTORY_NATS_SLICE_MS) {
              await new Promise((r) => setImmediate(r));
              slice = Date.now();
            }
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
    let topic: string;
    try {
      topic = untoken(m.subject.slice(root.length + 1));
    } catch {
      return;
    }
    for (const notice of unpack(m)) {
      try {
        listener?.({ ...notice, topic });
      } catch {
        // The hub drops what it cannot use; a listener that throws must not stop the consumer.
      }
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
    const oldest = await withStream(() => jsm.streams.getMessage(stream, oldestOf(subject)));
    // Records may hold several messages: the stream keeps `size` records, the store shows the
    // newest `size` messages of them (as every store does). A marker (count 0) holds none.
    const oldestFirst = oldest ? Number(oldest.header.get(H.offset) || '0') - recordCount(oldest) + 1 : top.offset + 1;
    const first = Math.max(oldestFirst, top.offset - size + 1, 1);
    const base = { epoch: top.epoch, offset: top.offset, first, seq: top.seq };
    const from = after === undefined ? Math.max(first, top.offset - limit + 1) : Math.max(first, after + 1);
    if (limit === 0 || !oldest || from > top.offset) return { ...base, messages: [] };
    const count = Math.min(limit, top.offset - from + 1);
    const consumer = await withStream(() =>
      js.consumers.get(stream, {
        filter_subjects: subject,
        deliver_policy: DeliverPolicy.StartSequence,
        opt_start_seq: oldest.seq,
      }),
    );
    const messages: StoredMessage[] = [];
    const iter = await consumer.consume({ max_messages: Math.min(size, 1_000) });
    try {
      for await (const m of iter) {
        let newest = 0;
        for (const n of unpack(m)) {
          newest = n.offset;
          if (n.epoch !== top.epoch || n.offset < from || n.offset > top.offset || messages.length >= count) continue;
          messages.push(
            n.from === undefined
              ? { offset: n.offset, data: n.data }
              : { offset: n.offset, from: n.from, data: n.data },
          );
        }
        if (messages.length >= count || m.seq >= top.seq || newest >= top.offset) break;
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
      return new Promise<StreamPosition>((resolve, reject) => {
        let lane = lanes.get(topic);
        const idle = !lane;
        if (!lane) lanes.set(topic, (lane = { queue: [], hint: undefined }));
        lane.queue.push({
          from: message.from,
          except: message.except,
          data: message.data,
          // Its last request starts by 3/4 of the timeout and lasts at most 1/5: answered within the timeout.
          deadline: Date.now() + timeout * 0.75,
          resolve,
          reject,
        });
        if (idle) void drain(topic, lane);
      });
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
