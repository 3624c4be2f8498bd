// Awaiting the SDK's explicit states instead of sleeping: a test waits for the event it needs,
// and one that never comes fails with where the client (or subscription) stood instead.
import type { ClientState, HubClient, Subscription } from '../../src/client/index.js';

/** Under the suite's 20 s test timeout, so a missed state fails with its own message first. */
const REACH_TIMEOUT_MS = 15_000;

/** Anything with an explicit `state` and a `state` event: a client or a subscription. */
interface Stateful<S extends string> {
  readonly state: S;
  on(event: 'state', listener: (state: S) => void): () => void;
}

function next<S extends string>(what: string, x: Stateful<S>, state: S, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${what} did not reach ${state} within ${ms} ms (is ${x.state})`));
    }, ms);
    const off = x.on('state', (s) => {
      if (s !== state) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Resolves once the client is in `state` (at once if it is already). */
export function reach(c: HubClient, state: ClientState, ms = REACH_TIMEOUT_MS): Promise<void> {
  return c.state === state ? Promise.resolve() : next('client', c, state, ms);
}

/** Resolves once the subscription is `subscribed` (at once if it is already). */
export function subscribed(sub: Subscription, ms = REACH_TIMEOUT_MS): Promise<void> {
  return sub.state === 'subscribed' ? Promise.resolve() : next('subscription', sub, 'subscribed', ms);
}

/** Resolves on the subscription's next `subscribed` event, not the present one: a resubscribe. */
export function subscribedAgain(sub: Subscription, ms = REACH_TIMEOUT_MS): Promise<void> {
  return next('subscription', sub, 'subscribed', ms);
}
