/**
 * Numbers JSON cannot carry. `JSON.parse` turns a literal beyond ±1.8e308 (`1e999`) into
 * ±Infinity, and `JSON.stringify` writes Infinity as `null`: relayed as it came, such data would
 * reach its recipients changed without a word. Both the WebSocket protocol (`invalid_data`) and
 * the HTTP API (`invalid_body`) refuse it with this message.
 */
export const NON_FINITE_MESSAGE = 'a number too large for JSON (beyond ±1.8e308, such as 1e999) cannot be delivered';

/**
 * Whether the JSON text may hold a number literal that parses to ±Infinity: an exponent of
 * three digits or more, or a run of 309 digits. A cheap pre-filter (a string that merely looks
 * like one only costs a walk), so that ordinary frames are not walked at all.
 */
const MAY_OVERFLOW = /[eE]\+?\d{3}|\d{309}/;

export const mayHoldNonFinite = (text: string): boolean => MAY_OVERFLOW.test(text);

/** Whether a parsed JSON value holds ±Infinity anywhere. Iterative: data may nest thousands deep. */
export function holdsNonFinite(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return true;
    } else if (typeof v === 'object' && v !== null) {
      for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push(child);
    }
  }
  return false;
}
