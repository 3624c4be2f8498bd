import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createInspector } from '@statelyai/inspect';
import { createInspectorServer } from '@statelyai/inspect/server';
import type { AnyEventObject, InspectionEvent, Observer } from 'xstate';
import { HubServerError } from '../../errors.js';
import * as L from '../../limits.js';
import { consoleLogger, type Logger } from '../logger.js';
import { RelayConnection } from './relay-connection.js';
import { compactSnapshot, sanitizeContext, sanitizeEvent } from './sanitize.js';

export interface InspectorOptions {
  /** Port of the relay and of the viewer page it serves; 0 picks a free one. */
  readonly port?: number;
  /** Client ids listed in the hub's inspected snapshot. */
  readonly snapshotIds?: number;
  readonly maxDeferredEvents?: number;
  readonly maxBufferedBytes?: number;
  readonly logger?: Logger;
}

const BRAND = Symbol.for('actorhub.inspector');

/**
 * A running Stately inspector relay with the hub's inspection wired to it. Pass it as
 * `createHub({ inspect })`: it is the inspection observer, and hub.close() closes it.
 */
export interface HubInspector extends Observer<InspectionEvent> {
  readonly [BRAND]: true;
  /** Open this in a browser (it embeds stately.ai/inspect, so that browser needs internet). */
  readonly url: string;
  readonly port: number;
  /** Inspection events sent to the relay, and dropped (relay slow or not connected). */
  readonly stats: { readonly sent: number; readonly dropped: number };
  /** Disconnects from the relay and stops it. Idempotent. */
  close(): Promise<void>;
}

export const isHubInspector = (value: unknown): value is HubInspector =>
  typeof value === 'object' && value !== null && (value as Partial<HubInspector>)[BRAND] === true;

/** The library's version, which every inspection event carries. */
const LIBRARY_VERSION = ((): string => {
  try {
    const entry = createRequire(import.meta.url).resolve('@statelyai/inspect');
    return (
      JSON.parse(readFileSync(path.join(path.dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }
    ).version;
  } catch {
    return 'unknown';
  }
})();

/**
 * A machine's definition, serialised as the library does (functions by name), once per logic:
 * the library re-serialises it for every actor, i.e. for every client that connects.
 */
/** What the inspector reads of an actor (xstate's public ActorRef type hides logic and _parent). */
interface InspectedActor {
  readonly id: string;
  readonly sessionId: string;
  readonly logic: { readonly config?: { readonly id?: string } };
  readonly _parent?: { readonly sessionId: string };
  getSnapshot(): unknown;
}

const definitions = new WeakMap<object, string>();
const definitionOf = (actorRef: InspectedActor): string => {
  const logic = actorRef.logic;
  const config = logic.config;
  if (!config) return JSON.stringify({ id: actorRef.id });
  let text = definitions.get(logic);
  if (text === undefined) {
    text = JSON.stringify(config, (_key, value: unknown) =>
      typeof value === 'function' ? { type: value.name } : value,
    );
    definitions.set(logic, text);
  }
  return text;
};

const failed = (port: number, cause: unknown): HubServerError =>
  new HubServerError({
    reason: 'inspector-failed',
    message: `Cannot start the inspector relay on port ${port}: ${(cause as Error).message}. Pick another with --inspect-port (ACTORHUB_INSPECT_PORT).`,
    cause,
  });

/**
 * The stock relay listens without an error handler (a busy port would be an uncaught
 * exception) and cannot report the port it got: so bind the port ourselves first, here,
 * where a failure is an ordinary error, and hand the relay a port known to be free.
 */
const claimPort = (port: number): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err) => reject(failed(port, err)));
    probe.listen(port, () => {
      const got = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(got));
    });
  });

/** Starts @statelyai/inspect's relay (createInspectorServer) and connects the hub's inspection to it. */
export async function startInspector(options: InspectorOptions = {}): Promise<HubInspector> {
  const logger = options.logger ?? consoleLogger();
  const maxIds = options.snapshotIds ?? L.INSPECTOR_SNAPSHOT_IDS;
  const port = await claimPort(options.port ?? L.DEFAULT_INSPECTOR_PORT);
  const relay = createInspectorServer({ port, autoOpen: false });
  const connection = new RelayConnection(
    `ws://localhost:${port}`,
    {
      maxDeferredEvents: options.maxDeferredEvents ?? L.INSPECTOR_MAX_DEFERRED_EVENTS,
      maxBufferedBytes: options.maxBufferedBytes ?? L.INSPECTOR_MAX_BUFFERED_BYTES,
    },
    logger,
  );
  try {
    await connection.open();
  } catch (error) {
    relay.stop();
    throw failed(port, error);
  }
  const inspector = createInspector(connection, {
    sanitizeEvent: (event: AnyEventObject) => sanitizeEvent(event),
    sanitizeContext: (context) => sanitizeContext(context, maxIds) ?? {},
    // The connection serialises once, itself; the snapshot is compact already.
    serialize: (event) =>
      ('snapshot' in event ? { ...event, snapshot: compactSnapshot(event.snapshot, maxIds) } : event) as typeof event,
  });

  let closed: Promise<void> | undefined;
  return {
    [BRAND]: true,
    url: `http://localhost:${port}`,
    port,
    get stats() {
      return { sent: connection.sent, dropped: connection.dropped };
    },
    next(event) {
      if (closed) return;
      switch (event.type) {
        case '@xstate.actor': {
          // Built here rather than by the library, to reuse the definition. Deferred like the
          // library's events (same timer queue, so the order holds): the actor's snapshot
          // does not exist yet while it is being constructed.
          const actorRef = event.actorRef as unknown as InspectedActor;
          const rootId = event.rootId;
          setTimeout(() => {
            const config = actorRef.logic.config;
            connection.send({
              type: '@xstate.actor',
              name: actorRef.id === actorRef.sessionId && config?.id ? config.id : actorRef.id,
              definition: definitionOf(actorRef),
              _version: LIBRARY_VERSION,
              createdAt: Date.now().toString(),
              id: null,
              rootId,
              parentId: actorRef._parent?.sessionId,
              sessionId: actorRef.sessionId,
              snapshot: compactSnapshot(actorRef.getSnapshot(), maxIds),
            });
          }, 0);
          return;
        }
        // Deliveries and heartbeats are method calls on each client's writer, not actor events:
        // they never reach inspection, so there is nothing per recipient to filter here.
        case '@xstate.event':
          break;
        case '@xstate.snapshot':
          // The library serialises the snapshot it is given, in full, before sanitizeContext runs:
          // hand it the compact one, made now, while the counts are the ones of this event.
          event = { ...event, snapshot: compactSnapshot(event.snapshot, maxIds) as unknown as typeof event.snapshot };
          break;
        default:
          return; // microsteps and actions: the viewer does not draw them
      }
      inspector.inspect.next?.(event);
    },
    close() {
      closed ??= connection.close().then(() => relay.stop());
      return closed;
    },
  };
}
