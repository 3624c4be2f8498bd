export { hubMachine, type HubMachine } from './hub.machine.js';
export { clientMachine, type ClientMachine } from './client.machine.js';
// The hub's input, commands and answers. Not its context (HubContext and the registry, topic
// index and remote directory in it) nor its internal events (HubEvent, HubInternalEvent): the
// machine's own state and wiring, which may change in any release (docs/api.md, "Not public").
export type {
  ClientRef,
  ClusterOut,
  HistoryAppendResult,
  HistoryMessage,
  HistoryRead,
  HistoryReadResult,
  HubCommand,
  HubErrorCode,
  HubHistory,
  HubInput,
  Member,
  NodeId,
  OutboundFrames,
  PublishOutcome,
  Ref,
  Settable,
  StreamPosition,
  Topic,
  TopicLimits,
} from './hub.types.js';
export type * from './client.types.js';
export {
  sdkConnectionMachine,
  sdkSubscriptionMachine,
  type SdkConnectionMachine,
  type SdkSubscriptionMachine,
} from './client-sdk.machine.js';
export type * from './client-sdk.types.js';
export type { PresencePage } from './topic-index.js';
export type { Connection, ConnectionHandlers, Frame } from './connection.js';
