import type { AnyActorRef } from 'xstate';
import { clientHandle } from './client-handle.js';
import { CloseCode } from '../transport/close-codes.js';
import type { Hub, HubOptions } from '../types.js';
import type { Logger } from '../observability/logger.js';
import type { HubStats } from '../observability/stats.js';

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';

/**
 * The client machine's `handleMessage` when the user gave `onMessage`: text as a string,
 * binary as a Buffer; a throw or a rejection closes that client with 1011, nobody else.
 */
export const onMessageHandler =
  (onMessage: NonNullable<HubOptions['onMessage']>, hub: () => Hub, stats: HubStats, logger: Logger) =>
  (
    { self, context }: { self: AnyActorRef; context: { meta: unknown } },
    params: { id: string; data: Buffer; binary: boolean },
  ): void => {
    const fail = (err: unknown): void => {
      stats.hookErrors++;
      logger.error({ err, client: params.id }, 'onMessage failed; closing the client with 1011');
      self.send({ type: 'client.close', code: CloseCode.InternalError, reason: 'internal error' });
    };
    try {
      const result = onMessage(
        clientHandle(hub(), self, params.id, context.meta),
        params.binary ? params.data : params.data.toString('utf8'),
        hub(),
      );
      if (isThenable(result)) result.then(undefined, fail);
    } catch (err) {
      fail(err);
    }
  };
