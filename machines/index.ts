export { hubMachine, type HubMachine } from './hub.machine.js';
export { clientMachine, type ClientMachine } from './client.machine.js';
export type * from './hub.types.js';
export type * from './client.types.js';
export {
  sdkConnectionMachine,
  sdkSubscriptionMachine,
  type SdkConnectionMachine,
  type SdkSubscriptionMachine,
} from './client-sdk.machine.js';
export type * from './client-sdk.types.js';
export type { TopicIndex, Member, PresencePage } from './topic-index.js';
export type { RemoteDirectory } from './remote-directory.js';
export type { Connection, ConnectionHandlers, Frame } from './connection.js';
