import { describe, expect, it } from 'vitest';
import * as machines from '../../machines/index.js';
// The assertions are the @ts-expect-error lines, checked by `npm run typecheck`: the
// hub machine's context and internal events are not part of 'actorhub/machines'.
// @ts-expect-error HubContext is the machine's own state
import type { HubContext } from '../../machines/index.js';
// @ts-expect-error HubEvent includes internal events
import type { HubEvent } from '../../machines/index.js';
// @ts-expect-error HubInternalEvent: the hub's own parts send these
import type { HubInternalEvent } from '../../machines/index.js';
// @ts-expect-error TopicIndex lives in the context
import type { TopicIndex } from '../../machines/index.js';
// @ts-expect-error RemoteDirectory lives in the context
import type { RemoteDirectory } from '../../machines/index.js';
import type { HubCommand, HubInput } from '../../machines/index.js';

type Internal = [HubContext, HubEvent, HubInternalEvent, TopicIndex, RemoteDirectory];

describe("'actorhub/machines'", () => {
  it('exports the machines and their public types, not the hub context or internal events', () => {
    const command: HubCommand = { type: 'hub.broadcast', data: 1 };
    const input: keyof HubInput = 'frames';
    const internal: Internal | undefined = undefined;
    expect([command.type, input, internal]).toEqual(['hub.broadcast', 'frames', undefined]);
    expect(Object.keys(machines).sort()).toEqual([
      'clientMachine',
      'hubMachine',
      'sdkConnectionMachine',
      'sdkSubscriptionMachine',
    ]);
  });
});
