/**
 * actorhub/client: the SDK for browsers and Node (docs/client.md). Browser-safe: nothing here
 * or below imports a Node built-in (the bundle test builds it for the browser platform).
 */
export {
  createClient,
  HubClient,
  type ClientEvents,
  type ClientOptions,
  type ClientState,
  type GapInfo,
  type HistoryResult,
  type Member,
  type MessageHandler,
  type MessageInfo,
  type Position,
  type PresenceResult,
  type PublishResult,
  type StateDetail,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionEvents,
  type SubscriptionState,
  type WebSocketConstructor,
  type WebSocketLike,
} from './client.js';
export { ClientError, ClientErrorCode, TERMINAL_CLOSE_CODES } from './errors.js';
export type { StandardSchemaV1 } from './standard-schema.js';
export type { CloseInfo } from '../../machines/client-sdk.types.js';
/** The type of `client.machine` (the connection machine itself is in actorhub/machines). */
export type { SdkConnectionMachine } from '../../machines/client-sdk.machine.js';
