import type { HistoryStore, StreamPosition } from './store.js';

/** One page of a topic's history as clients and code see it (the `history` command, GET /api/history, hub.history). */
export interface HistoryResult extends StreamPosition {
  /** Oldest first; `data` is the published JSON value. */
  readonly messages: { readonly offset: number; readonly from?: string; readonly data: unknown }[];
}

export interface HistoryQuery {
  /** At most this many messages (default and ceiling: the history size). */
  readonly limit?: number | undefined;
  /** The oldest `limit` messages after this position (a page forward); absent: the newest `limit`. */
  readonly since?: StreamPosition | undefined;
}

export type HistoryErrorCode = 'no_history' | 'unavailable' | 'invalid_frame';

/** Why a history read failed: the topic keeps none, or the store could not be reached. */
export class HistoryError extends Error {
  constructor(
    readonly code: HistoryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HistoryError';
  }
}

/**
 * Reads a page of history. With `since` of another epoch the page is empty (those offsets mean
 * nothing in this stream): the answer's epoch and offset tell the caller where it now stands.
 */
export async function readHistory(
  store: HistoryStore | undefined,
  size: number,
  covers: (topic: string) => boolean,
  topic: string,
  query: HistoryQuery = {},
): Promise<HistoryResult> {
  if (!store || !covers(topic)) throw new HistoryError('no_history', `topic "${topic}" keeps no history`);
  const { limit, since } = query;
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 1))
    throw new HistoryError('invalid_frame', `limit must be a positive integer, got ${String(limit)}`);
  const n = Math.min(limit ?? size, size);
  let page;
  try {
    page = await store.read(topic, since ? { after: since.offset, limit: n } : { limit: n });
  } catch (error) {
    throw new HistoryError('unavailable', `the history of "${topic}" could not be read: ${(error as Error).message}`);
  }
  const messages =
    since && since.epoch !== page.epoch
      ? []
      : page.messages.map((m) =>
          m.from === undefined
            ? { offset: m.offset, data: JSON.parse(m.data) as unknown }
            : { offset: m.offset, from: m.from, data: JSON.parse(m.data) as unknown },
        );
  return { epoch: page.epoch, offset: page.offset, messages };
}
