import { CloseCode } from './close-codes.js';

/**
 * Why a client left, from a small fixed set (a metric label: it must stay bounded). Decided by
 * the writer: what the server initiated wins; otherwise the close code the socket reported.
 */
export const DISCONNECT_REASONS = [
  'normal',
  'going_away',
  'slow_consumer',
  'heartbeat_timeout',
  'token_expired',
  'policy',
  'too_big',
  'invalid_payload',
  'error',
  'reset',
  'terminated',
  'other',
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];

/** Reasons that mean the hub enforced a limit on this client: logged at warn, not debug. */
export const POLICY_REASONS: ReadonlySet<DisconnectReason> = new Set([
  'slow_consumer',
  'heartbeat_timeout',
  'policy',
  'too_big',
  'invalid_payload',
]);

/** What a close code means, whichever side sent it. */
export const reasonOfCode = (code: number): DisconnectReason => {
  switch (code) {
    case CloseCode.Normal:
    case 1005: // a close frame without a code
      return 'normal';
    case CloseCode.GoingAway:
      return 'going_away';
    case 1006: // no close frame: the TCP connection dropped
      return 'reset';
    case CloseCode.InvalidPayload:
      return 'invalid_payload';
    case CloseCode.PolicyViolation:
      return 'policy';
    case CloseCode.MessageTooBig:
      return 'too_big';
    case CloseCode.InternalError:
      return 'error';
    case CloseCode.SlowConsumer:
      return 'slow_consumer';
    case CloseCode.TokenExpired:
      return 'token_expired';
    default:
      return 'other';
  }
};

/**
 * A close code as a bounded label: RFC 6455 codes and the hub's own 4008/4009 as they are,
 * other application codes by class ("3xxx", "4xxx"), anything else "other".
 */
export const codeLabel = (code: number): string => {
  if ((code >= 1000 && code <= 1015) || code === CloseCode.SlowConsumer || code === CloseCode.DuplicateId)
    return String(code);
  if (code >= 3000 && code <= 3999) return '3xxx';
  if (code >= 4000 && code <= 4999) return '4xxx';
  return 'other';
};
