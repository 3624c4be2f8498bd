import type { ActorRef, ActorRefFrom, ErrorActorEvent, Snapshot } from 'xstate';
import type { Connection } from '../src/connection.js';
import type { ClientMachine } from './client.machine.js';
import type { ClientId, Frame, OutboundLimits, WriterEvent } from './client.types.js';

export type ClientRef = ActorRefFrom<ClientMachine>;
export type WriterRef = ActorRef<Snapshot<unknown>, WriterEvent>;

/** One registry entry. The registry (a Map in the hub's context) is owned by the hub actor. */
export interface ClientEntry {
  readonly ref: ClientRef;
  /** The client's write loop; filled when the client starts. The hot path sends here. */
  writer: WriterRef | undefined;
  readonly meta: unknown;
  readonly connectedAt: number;
}

/** Turns a message into the bytes every recipient gets: called once per broadcast. */
export type Encode = (data: unknown, binary: boolean | undefined) => Frame;

export interface HubInput {
  readonly clientLogic: ClientMachine;
  readonly encode: Encode;
  readonly limits: OutboundLimits;
  readonly maxClients: number;
  readonly pingIntervalMs: number;
  readonly pongWaitMs: number;
  readonly shutdownTimeoutMs: number;
}

export interface ShutdownRequest {
  readonly code: number;
  readonly reason: string;
  readonly timeoutMs: number;
}

export interface HubContext extends HubInput {
  readonly clients: Map<ClientId, ClientEntry>;
  /** Mirrors clients.size: the Map is mutated in place, which select()/Object.is cannot see. */
  readonly count: number;
  readonly shutdown: ShutdownRequest;
}

export type HubRegisterEvent = {
  type: 'hub.register';
  id: ClientId;
  connection: Connection;
  meta?: unknown;
  /** Per-client override of the hub's outbound limits and overflow policy. */
  limits?: Partial<OutboundLimits>;
};

/** Events anyone may send to the hub actor (`hub.actor.send(...)`). */
export type HubEvent =
  | HubRegisterEvent
  | { type: 'hub.unregister'; id: ClientId }
  | { type: 'hub.broadcast'; data: unknown; binary?: boolean; except?: ClientId }
  | { type: 'hub.send'; to: ClientId; data: unknown; binary?: boolean }
  | { type: 'hub.disconnect'; id: ClientId; code?: number; reason?: string }
  | { type: 'hub.shutdown'; code?: number; reason?: string; timeoutMs?: number }
  | { type: 'hub.sweep'; now: number }
  | { type: 'hub.failed'; during: string; error: unknown };

/** A client actor that threw reaches the hub as this (DESIGN.md fact 5). */
export type ClientErrorEvent = ErrorActorEvent & { actorId?: string };
