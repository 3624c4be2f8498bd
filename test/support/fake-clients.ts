import { createActor } from 'xstate';
import { clientMachine } from '../../machines/client.machine.js';
import type { ClientEvent, Frame, Writer, WriterEvent, WriterInput } from '../../machines/client.types.js';
import { hubMachine } from '../../machines/hub.machine.js';
import type { HubInput, OutboundFrames } from '../../machines/hub.types.js';
import type { Connection } from '../../machines/connection.js';

/** A connection that records what the hub machine does with it directly (rejections only). */
export interface FakeConnection extends Connection {
  readonly closes: { code: number; reason: string }[];
}

export const fakeConnection = (): FakeConnection => {
  const closes: { code: number; reason: string }[] = [];
  return {
    closes,
    remoteAddress: '127.0.0.1',
    bufferedAmount: 0,
    isOpen: true,
    writable: true,
    listen: () => () => undefined,
    write: () => undefined,
    ping: () => undefined,
    pong: () => undefined,
    close: (code, reason) => void closes.push({ code, reason }),
    terminate: () => undefined,
  };
};

export interface FakeWriters {
  /** Events each client's writer received, by client id. */
  readonly log: Map<string, WriterEvent[]>;
  /** Lets a test speak for a client's socket (client.socketClosed, client.socketMessage...). */
  readonly back: Map<string, (event: ClientEvent) => void>;
  /** Total events received by all writers. */
  received: number;
  /** When true, a writer answers writer.close/terminate with client.socketClosed, like a live peer. */
  autoClose: boolean;
  /** Keep per-event logs (off for 50k-client runs). */
  record: boolean;
  /** Called for every event any writer receives. */
  onEvent?: (id: string, event: WriterEvent) => void;
}

export const frame = (label: string): Frame & { label: string } => ({ byteLength: label.length, label });

/** Frames labelled with what they are, so tests can read deliveries back. */
export const fakeFrames: OutboundFrames = {
  welcome: (id) => frame(`welcome:${id}`),
  message: (data, _binary, topic, from) =>
    frame(topic === undefined && from === undefined ? String(data) : `${topic ?? ''}<${from ?? ''}>${String(data)}`),
  joined: (topic, m) => frame(`joined:${topic}:${m.id}`),
  left: (topic, m) => frame(`left:${topic}:${m.id}`),
  ack: (ref, result) => frame(`ack:${ref}:${JSON.stringify(result)}`),
  error: (ref, code) => frame(`error:${String(ref)}:${code}`),
};

/** A hub machine with fake client writers: no sockets, pure actors. */
export function fakeHub(
  overrides: Partial<HubInput> = {},
  writers?: Partial<FakeWriters>,
  clientActions: Parameters<typeof clientMachine.provide>[0]['actions'] = {},
) {
  const w: FakeWriters = { log: new Map(), back: new Map(), received: 0, autoClose: true, record: true, ...writers };
  const createWriter = (input: WriterInput): Writer => {
    const log: WriterEvent[] = [];
    if (w.record) w.log.set(input.id, log);
    let owner: { send(event: ClientEvent): void } | undefined;
    return {
      start(client) {
        owner = client;
        w.back.set(input.id, (event) => owner?.send(event));
      },
      send(event) {
        w.received++;
        if (w.record) log.push(event);
        w.onEvent?.(input.id, event);
        if (w.autoClose && event.type === 'writer.close')
          owner?.send({ type: 'client.socketClosed', code: event.code, reason: event.reason });
        if (w.autoClose && event.type === 'writer.terminate')
          owner?.send({ type: 'client.socketClosed', code: 1006, reason: '' });
      },
      handOver(hub) {
        owner = hub;
      },
      dispose() {
        owner = undefined;
        if (!w.record) w.back.delete(input.id);
      },
    };
  };
  const errors: { during: string; error: unknown }[] = [];
  const machine = hubMachine.provide({
    actions: { reportError: (_, params) => void errors.push(params) },
  });
  const actor = createActor(machine, {
    input: {
      clientLogic: clientMachine.provide({ actions: clientActions }),
      createWriter,
      frames: fakeFrames,
      topicLimits: {
        maxTopicLength: 16,
        maxTopicsPerClient: 3,
        maxSubscriptions: 1_000_000,
        maxMembersPerTopic: 5,
        presencePageSize: 100,
      },
      presenceEvents: () => true,
      badFrames: { max: 3, windowMs: 60_000 },
      forward: () => undefined,
      limits: { maxMessages: 4, maxBytes: 1024, policy: 'close' },
      maxClients: 100,
      pingIntervalMs: 60_000,
      pongWaitMs: 70_000,
      shutdownTimeoutMs: 1_000,
      ...overrides,
    },
  });
  actor.start();
  const register = (id: string, connection: Connection = fakeConnection()) =>
    actor.send({ type: 'hub.register', id, connection });
  return { actor, writers: w, errors, register };
}

/**
 * Resolves once the hub has taken in the departures reported so far: the departure queue hands
 * them over on the next turn of the event loop (setImmediate), which this waits for.
 */
export const departuresTaken = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Labels of the frames a writer received, welcome frames left out. */
export const delivered = (events: WriterEvent[] | undefined): string[] =>
  (events ?? []).flatMap((e) => {
    const label = e.type === 'writer.deliver' ? (e.frame as Frame & { label: string }).label : undefined;
    return label === undefined || label.startsWith('welcome:') ? [] : [label];
  });
