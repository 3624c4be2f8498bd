import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { RemoteDirectory } from '../../machines/remote-directory.js';
import { TopicIndex } from '../../machines/topic-index.js';

/**
 * Every subscribe parses its own copy of the topic name, and the client's topic
 * set kept that copy, so 100 topics of 128 characters cost every client ~14 KiB of names alone.
 * Names are interned now (one instance per distinct topic). String identity cannot be seen from
 * JavaScript, so this counts heap bytes: the memory of a membership, not a time.
 */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heap = (): number => {
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
};

const CLIENTS = 2000;
const TOPICS = 100;
const names = Array.from({ length: TOPICS }, (_, t) => `shared${t}-`.padEnd(128, 'x'));
/** A fresh copy of the name, as JSON.parse makes for every subscribe frame. */
const copy = (name: string): string => JSON.parse(`"${name}"`) as string;

/** Heap bytes per membership of CLIENTS clients in the same TOPICS topics, names copied per subscribe. */
function bytesPerMembership(join: (client: string, topic: string) => void): number {
  const ids = Array.from({ length: CLIENTS }, (_, i) => `client-${i}`);
  const before = heap();
  for (const id of ids) for (const name of names) join(id, copy(name));
  return (heap() - before) / (CLIENTS * TOPICS);
}

describe('topic names are interned', () => {
  it('TopicIndex: a membership of a shared 128-character topic holds no copy of its name', () => {
    const index = new TopicIndex();
    const per = bytesPerMembership((id, topic) => index.add(id, topic, undefined));
    expect(index.topicCount).toBe(TOPICS);
    // A copy of the name alone is 144 bytes (128 one-byte characters + header); entries are ~40–90.
    expect(per).toBeLessThan(120);
  });

  it('RemoteDirectory: the same for other nodes’ members', () => {
    const remote = new RemoteDirectory();
    const per = bytesPerMembership((id, topic) => void remote.join('n1', id, topic, undefined));
    expect(remote.members(names[0]!).size).toBe(CLIENTS);
    expect(per).toBeLessThan(120);
  });
});
