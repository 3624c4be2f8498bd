import type { ClientId } from '../../machines/client.types.js';
import { POLICY_REASONS, type DisconnectReason } from '../transport/disconnect-reason.js';
import type { Logger } from './logger.js';
import type { ClientTally } from './metrics/tally.js';

/** How a connection ended, as its writer saw it. */
export interface ClientClosed {
  readonly reason: DisconnectReason;
  /** The code the server sent when it initiated the close, else the one the peer sent (1006: none). */
  readonly code: number;
  /** The close frame's reason text (never a message payload). */
  readonly closeReason: string;
  readonly by: 'server' | 'peer';
  readonly durationMs: number;
}

/** What a client's writer reports about its connection's life: once at start, once at the end. */
export interface ClientEvents {
  /** `connection.remoteAddress` is read only if it is logged: net looks it up with a system call. */
  opened(id: ClientId, connection: { readonly remoteAddress: string | undefined }): void;
  closed(id: ClientId, info: ClientClosed): void;
}

const debugEnabled = (logger: Logger): boolean => logger.isLevelEnabled?.('debug') ?? true;

/**
 * One log line per connect and disconnect (debug; warn when the hub enforced a limit), and the
 * tallies behind the metrics. Payloads are never logged.
 */
export const clientEvents = (logger: Logger, tally: ClientTally): ClientEvents => ({
  opened(id, connection) {
    tally.opened();
    if (debugEnabled(logger)) logger.debug({ client: id, remote: connection.remoteAddress }, 'client connected');
  },
  closed(id, info) {
    tally.closed(info.reason, info.code);
    const fields = {
      client: id,
      reason: info.reason,
      code: info.code,
      closeReason: info.closeReason,
      by: info.by,
      durationMs: info.durationMs,
    };
    if (POLICY_REASONS.has(info.reason)) logger.warn(fields, 'client closed by policy');
    else logger.debug(fields, 'client disconnected');
  },
});
