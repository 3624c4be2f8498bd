import type { ClientId } from '../../machines/client.types.js';
import type {
  HistoryMessage,
  HistoryRead,
  HubHistory,
  HubRemoteEvent,
  StreamPosition,
} from '../../machines/hub.types.js';
import { RawJson } from '../protocol/frames.js';
import type { HistoryPage, HistoryStore, StoredMessage, StoredNotice, SyncHistoryStore } from './store.js';

/** Thrown by append when the data has no JSON form (the hub answers encode_failed, not unavailable). */
class EncodeError extends Error {
  readonly code = 'encode_failed';
}

/** JSON text of a message, serialised once: the hub handle's RawJson is used as is. */
export const jsonOf = (data: unknown): string => {
  if (data instanceof RawJson) return data.json;
  let text: string | undefined;
  try {
    text = JSON.stringify(data);
  } catch (error) {
    throw new EncodeError((error as Error).message);
  }
  if (text === undefined) throw new EncodeError(`${typeof data} has no JSON form`);
  return text;
};

const toHubMessage = (m: StoredMessage): HistoryMessage =>
  m.from === undefined
    ? { offset: m.offset, data: new RawJson(m.data) }
    : { offset: m.offset, from: m.from, data: new RawJson(m.data) };

/**
 * A synchronous store as the hub machine's HubHistory port: data goes in as JSON text and comes
 * back as RawJson, so the envelope splices it without serialising it again.
 */
export function hubHistory(store: SyncHistoryStore, size: number, covers: (topic: string) => boolean): HubHistory {
  return {
    size,
    synchronous: true,
    covers,
    append(topic, data, from: ClientId | undefined) {
      const json = jsonOf(data);
      const position = store.append(topic, from === undefined ? { data: json } : { from, data: json });
      return { ...position, data: data instanceof RawJson ? data : new RawJson(json) };
    },
    position: (topic): StreamPosition => store.position(topic),
    read(topic, after, limit): HistoryRead {
      const page = store.read(topic, { after, limit });
      return { epoch: page.epoch, offset: page.offset, first: page.first, messages: page.messages.map(toHubMessage) };
    },
  };
}

const toHubRead = (page: HistoryPage): HistoryRead => ({
  epoch: page.epoch,
  offset: page.offset,
  first: page.first,
  messages: page.messages.map(toHubMessage),
});

const notHere = (): never => {
  throw new Error('this history store answers asynchronously (appendAsync/readAsync)');
};

/** Rejects after `ms`: a store that never answers must not leave a subscriber held forever. */
const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e as Error)),
    );
  });

/**
 * A shared (asynchronous) store as the hub machine's port, for a cluster: appends are numbered
 * by the store, which notifies every node itself; reads wait until this node receives the
 * topic (`subscribed`) so that the read and the live notifications leave no gap between them,
 * and answer only after one more broker round trip on the subscribing connection (`subscribed`
 * again: the broker answers it after every notification it sent before, so those up to the
 * read's top are all here, held and deduplicated, and none reaches the subscriber after its
 * replay as well).
 */
export function clusterHistory(
  store: HistoryStore,
  size: number,
  covers: (topic: string) => boolean,
  subscribed: () => Promise<void>,
  timeoutMs: number,
): HubHistory {
  return {
    size,
    synchronous: false,
    covers,
    append: notHere,
    position: notHere,
    read: notHere,
    appendAsync(topic, data, from, except, done) {
      let json: string;
      try {
        json = jsonOf(data);
      } catch (error) {
        done({ error: 'encode_failed', message: (error as Error).message });
        return;
      }
      const message = {
        data: json,
        from,
        except,
      };
      within(Promise.resolve(store.append(topic, message)), timeoutMs, 'storing the message').then(
        ({ epoch, offset }) => done({ epoch, offset }),
        (error: unknown) =>
          done({
            error: 'unavailable',
            message: `the message could not be stored in the history of "${topic}": ${(error as Error).message}`,
          }),
      );
    },
    readAsync(topic, after, done) {
      within(
        subscribed()
          .then(() => store.read(topic, after === undefined ? { limit: 0 } : { after, limit: size }))
          .then((page) => subscribed().then(() => page)),
        timeoutMs,
        'reading the history',
      ).then(
        (page) => done(toHubRead(page)),
        (error: unknown) =>
          done({
            error: 'unavailable',
            message: `the history of "${topic}" could not be read: ${(error as Error).message}`,
          }),
      );
    },
  };
}

/**
 * What a store that notifies by itself (JetStream) stored, as the hub event a broker
 * notification would have become. Whatever is in the stream came over the network: it is
 * checked like an envelope (size, topic length, JSON text) and dropped when it is not usable.
 */
export function noticeEvent(
  notice: StoredNotice,
  limits: { readonly maxBytes: number; readonly maxTopicLength: number },
): Extract<HubRemoteEvent, { type: 'hub.remote.publish' }> | undefined {
  const { topic, data, offset, epoch, from, except } = notice;
  if (topic.length === 0 || topic.length > limits.maxTopicLength || data.length > limits.maxBytes) return undefined;
  if (!Number.isSafeInteger(offset) || offset < 1) return undefined;
  try {
    JSON.parse(data);
  } catch {
    return undefined;
  }
  return {
    type: 'hub.remote.publish',
    topic,
    data: new RawJson(data),
    offset,
    epoch,
    ...(from === undefined ? {} : { from }),
    ...(except === undefined ? {} : { except }),
  };
}
