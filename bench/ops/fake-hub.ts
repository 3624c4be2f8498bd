/**
 * The hub machine with fake client writers and connections: no sockets, pure actors. Adapted
 * from test/support/fake-clients.ts (bench/ does not import from test/), without the per-event
 * logs: a writer only counts what it receives, and answers a close like a live peer would.
 */
import { createActor } from 'xstate';
import { clientMachine } from '../../machines/client.machine.js';
import type { ClientId, Frame, Writer, WriterEvent, WriterOwner } from '../../machines/client.types.js';
import { hubMachine } from '../../machines/hub.machine.js';
import type { OutboundFrames } from '../../machines/hub.types.js';
import type { Connection } from '../../machines/connection.js';

export const fakeConnection = (): Connection => ({
  remoteAddress: '127.0.0.1',
  bufferedAmount: 0,
  isOpen: true,
  writable: true,
  listen: () => () => undefined,
  write: () => undefined,
  ping: () => undefined,
  pong: () => undefined,
  close: () => undefined,
  terminate: () => undefined,
});

const frame = (byteLength: number): Frame => ({ byteLength });
const ONE: Frame = frame(1);

/** Frames built once per message, like the real encoders; no welcome frame (relay mode has none). */
const frames: OutboundFrames = {
  welcome: () => undefined,
  message: (data) => frame(String(data).length),
  joined: () => ONE,
  left: () => ONE,
  ack: () => ONE,
  error: () => ONE,
};

export interface FakeHub {
  readonly actor: ReturnType<typeof createActor<typeof hubMachine>>;
  /** Events every writer received, all together. */
  received(): number;
  register(id: ClientId): void;
  count(): number;
}

/** `watched`: as with an inspector attached (each client's shutdown close is a step of its machine). */
export function fakeHub(maxClients: number, watched = false): FakeHub {
  let received = 0;
  const createWriter = (): Writer => {
    let owner: WriterOwner | undefined;
    return {
      start: (client) => void (owner = client),
      send: (event: WriterEvent) => {
        received++;
        if (event.type === 'writer.close')
          owner?.send({ type: 'client.socketClosed', code: event.code, reason: event.reason });
        else if (event.type === 'writer.terminate')
          owner?.send({ type: 'client.socketClosed', code: 1006, reason: '' });
      },
      dispose: () => void (owner = undefined),
      handOver: (hub) => void (owner = hub),
    };
  };
  const actor = createActor(hubMachine, {
    input: {
      clientLogic: clientMachine,
      createWriter,
      frames,
      topicLimits: {
        maxTopicLength: 64,
        maxTopicsPerClient: 8,
        maxSubscriptions: Number.POSITIVE_INFINITY,
        maxMembersPerTopic: Number.POSITIVE_INFINITY,
        presencePageSize: 100,
      },
      presenceEvents: () => false,
      badFrames: { max: 3, windowMs: 60_000 },
      forward: () => undefined,
      limits: { maxMessages: 256, maxBytes: 1024 * 1024, policy: 'close' },
      maxClients,
      pingIntervalMs: 3_600_000,
      pongWaitMs: 3_600_000,
      shutdownTimeoutMs: 10_000,
      watched,
    },
  });
  actor.start();
  return {
    actor,
    received: () => received,
    register: (id) => actor.send({ type: 'hub.register', id, connection: fakeConnection() }),
    count: () => actor.getSnapshot().context.count,
  };
}
