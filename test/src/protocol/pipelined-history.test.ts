import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PENDING_HISTORY_READS } from '../../../src/limits.js';
import { RawWs } from '../../support/raw-ws.js';
import { textFrame } from '../../support/ws-frame.js';
import { startHub, type Harness } from '../../support/ws-client.js';

let harness: Harness | undefined;
let raw: RawWs | undefined;
afterEach(async () => {
  raw?.socket.destroy();
  await harness?.stop();
  harness = undefined;
});

/** The server's next text frames, parsed (the welcome first). */
async function frames(ws: RawWs, n: number): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  while (out.length < n) {
    const f = await ws.next();
    if ('kind' in f) throw new Error(`the server ended the stream after ${out.length} frames`);
    out.push(JSON.parse(f.payload.toString()) as Record<string, unknown>);
  }
  return out;
}

/**
 * Commands written as one TCP write: the hub takes them in one turn of the event loop, so a
 * history read is still in flight while the commands behind it are handled.
 */
async function pipelined(commands: object[]): Promise<RawWs> {
  raw = await RawWs.connect(harness!.port, '/ws?id=piper');
  await frames(raw, 1); // welcome
  raw.write(Buffer.concat(commands.map((c) => textFrame(JSON.stringify(c)))));
  return raw;
}

describe('a history read does not hold back the commands pipelined behind it', () => {
  it('maxPendingCommands 2: one history read, then 10 publishes, all acked in order', async () => {
    harness = await startHub({ protocol: 'json', maxPendingCommands: 2, history: { size: 100, ttlMs: 60_000 } });
    const publishes = Array.from({ length: 10 }, (_, i) => ({ type: 'publish', topic: 'news', data: i, ref: `p${i}` }));
    const ws = await pipelined([{ type: 'history', topic: 'news', ref: 'h' }, ...publishes]);
    const answers = await frames(ws, 11);
    expect(answers.filter((f) => f.type === 'error')).toEqual([]);
    const acks = answers.filter((f) => typeof f.ref === 'string' && f.ref.startsWith('p'));
    // In order, each with the next offset: the publishes were handled in the order they were sent.
    expect(acks.map((f) => [f.ref, (f.result as { offset: number }).offset])).toEqual(
      publishes.map((p, i) => [p.ref, i + 1]),
    );
    // The read was issued in its turn, before any of the publishes behind it.
    const history = answers.find((f) => f.ref === 'h')!;
    expect(history).toMatchObject({ type: 'ack', result: { offset: 0, messages: [] } });
  });

  it(`history reads are bounded apart: ${MAX_PENDING_HISTORY_READS} in flight, one more is overloaded`, async () => {
    harness = await startHub({ protocol: 'json', history: { size: 100, ttlMs: 60_000 } });
    const reads = Array.from({ length: MAX_PENDING_HISTORY_READS + 1 }, (_, i) => ({
      type: 'history',
      topic: 'news',
      ref: `h${i}`,
    }));
    const ws = await pipelined(reads);
    const answers = await frames(ws, reads.length);
    expect(answers.filter((f) => f.type === 'ack')).toHaveLength(MAX_PENDING_HISTORY_READS);
    expect(answers.filter((f) => f.type === 'error')).toEqual([
      {
        type: 'error',
        ref: `h${MAX_PENDING_HISTORY_READS}`,
        code: 'overloaded',
        message: `more than ${MAX_PENDING_HISTORY_READS} history reads are in flight`,
      },
    ]);
  });
});
