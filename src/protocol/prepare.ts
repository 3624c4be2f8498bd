import { RawJson } from './frames.js';

const toJson = (message: unknown): string => {
  const json = JSON.stringify(message);
  if (json === undefined) throw new TypeError(`cannot send ${typeof message}: it has no JSON form`);
  return json;
};

/**
 * Serialises what the hub handle is given, once, so a bad value throws to the caller. Relay:
 * strings and bytes as they are, other values as JSON text. JSON protocol: any JSON value,
 * spliced into the envelope later; bytes are refused.
 */
export const preparer =
  (protocol: 'json' | 'relay') =>
  (message: unknown): unknown => {
    const bytes = message instanceof Uint8Array || message instanceof ArrayBuffer;
    if (protocol === 'relay') return typeof message === 'string' || bytes ? message : toJson(message);
    if (bytes)
      throw new TypeError('the JSON protocol carries JSON data only; use protocol "relay" for binary messages');
    return new RawJson(toJson(message));
  };
