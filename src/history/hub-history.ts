import type { ClientId } from '../../machines/client.types.js';
import type { HistoryMessage, HistoryRead, HubHistory, StreamPosition } from '../../machines/hub.types.js';
import { RawJson } from '../protocol/frames.js';
import type { StoredMessage, SyncHistoryStore } from './store.js';

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
