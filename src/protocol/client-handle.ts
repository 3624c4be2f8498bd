import type { AnyActorRef } from 'xstate';
import type { ClientId } from '../../machines/client.types.js';
import { CloseCode } from '../transport/close-codes.js';
import type { ClientHandle, Hub } from '../types.js';

/** The view of one client that user hooks get: its id and metadata, and a way to answer it. */
export const clientHandle = (hub: Hub, self: AnyActorRef, id: ClientId, meta: unknown): ClientHandle => ({
  id,
  meta,
  send: (message, options) => void hub.send(id, message, options),
  close: (code = CloseCode.Normal, reason = '') => self.send({ type: 'client.close', code, reason }),
});
