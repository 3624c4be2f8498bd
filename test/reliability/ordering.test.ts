import { afterEach, describe, expect, it } from 'vitest';
import { runOrderedStream } from '../support/ordered-stream.js';
import { startHub, whenCount, type Harness } from '../support/ws-client.js';

/**
 * docs/reliability.md item 4 at reduced size (bench/ordering.ts runs 1M messages): several publishers,
 * several receivers, real ws clients → nothing lost, nothing duplicated, each publisher's
 * order kept, with the hub's default outbound limits and overflow policy.
 */
const PUBLISHERS = 4;
const PER_PUBLISHER = 5_000;
const RECEIVERS = 4;

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

describe.each(['json', 'relay'] as const)('nothing lost, nothing reordered (%s protocol)', (protocol) => {
  it(`${PUBLISHERS} publishers × ${PER_PUBLISHER} messages to ${RECEIVERS} receivers`, async () => {
    harness = await startHub({ protocol });
    const hub = harness.hub;
    const report = await runOrderedStream({
      url: harness.url,
      protocol,
      publishers: PUBLISHERS,
      perPublisher: PER_PUBLISHER,
      receivers: RECEIVERS,
      whenRegistered: (n) => whenCount(hub, (c) => c === n),
    });
    expect(report).toMatchObject({
      messages: PUBLISHERS * PER_PUBLISHER,
      expected: PUBLISHERS * PER_PUBLISHER * RECEIVERS,
      delivered: PUBLISHERS * PER_PUBLISHER * RECEIVERS,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      corrupt: 0,
      closed: 0,
    });
    expect(hub.stats.dropped).toBe(0);
  }, 60_000);
});
