import { assign, enqueueActions } from 'xstate';
import type { HubContext } from '../machines/hub.types.js';

/**
 * Supervision of the hub actor (docs/architecture.md#supervision). Two layers:
 *
 * 1. **Every hub action is supervised.** An exception inside one is caught here, reported
 *    (`hubErrors`, an `error` log line with the action's name) and the event's remaining effect
 *    is skipped; if the event was a client's command with a `ref`, that client gets an `internal`
 *    error frame instead of waiting forever. The hub actor keeps running: one bad event must not
 *    stop every client of the node (a TypeError in a hub action once left a zombie process: docs/reliability.md#12-supervision-of-the-hub-actor).
 * 2. **If the hub actor fails nevertheless** (an exception outside any action: a guard, XState
 *    itself), createHub turns the failure into something visible: `/healthz` 503, every client
 *    closed with 1011, upgrades refused, the node leaves its cluster, `onFailure(error)` is called,
 *    and the standalone server exits 1 so that its supervisor (systemd, Kubernetes) restarts it.
 */

/** Called before every hub action and guard with its name (`guard:<name>` for guards); a throw there is what a bug there would do. */
export type Failpoint = (site: string) => void;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the machine's actions have their own typed signatures, kept as they are
type AnyFn = (...args: any[]) => any;
type Builtin = AnyFn & { type?: string; assignment?: unknown; collect?: AnyFn; resolve?: unknown };

export type ActionErrorReport = (
  action: string,
  error: unknown,
  context: HubContext | undefined,
  params: unknown,
) => void;

/**
 * Wraps a machine's actions so an exception inside any of them is reported instead of failing
 * the actor. Plain actions are wrapped as functions; `assign` and `enqueueActions` are rebuilt
 * around a guarded assignment / collector (their own functions are only markers XState resolves).
 * Other built-ins (stopChild…) run no user code and are left as they are.
 */
export function superviseActions(
  actions: Record<string, unknown>,
  report: ActionErrorReport,
  failpoint?: Failpoint,
): Record<string, AnyFn> {
  const supervised: Record<string, AnyFn> = {};
  for (const [name, action] of Object.entries(actions)) {
    if (typeof action !== 'function') continue;
    const fn = action as Builtin;
    if (fn.type === 'xstate.assign' && typeof fn.assignment === 'function') {
      const assignment = fn.assignment as AnyFn;
      supervised[name] = assign((args: { context: HubContext }, params: unknown) => {
        try {
          failpoint?.(name);
          return assignment(args, params) as object;
        } catch (error) {
          report(name, error, args.context, params);
          return {};
        }
      }) as AnyFn;
    } else if (fn.type === 'xstate.enqueueActions' && typeof fn.collect === 'function') {
      const collect = fn.collect;
      supervised[name] = enqueueActions((args: { context: HubContext }, params: unknown) => {
        try {
          failpoint?.(name);
          collect(args, params);
        } catch (error) {
          report(name, error, args.context, params);
        }
      }) as AnyFn;
    } else if (fn.type === undefined || !fn.resolve) {
      supervised[name] = (args: { context: HubContext }, params: unknown): void => {
        try {
          failpoint?.(name);
          fn(args, params);
        } catch (error) {
          report(name, error, args?.context, params);
        }
      };
    }
  }
  return supervised;
}

/** Guards with the failpoint in front (only when one is set: guards run no code that could throw otherwise). */
export function failpointGuards(guards: Record<string, unknown>, failpoint: Failpoint): Record<string, AnyFn> {
  const wrapped: Record<string, AnyFn> = {};
  for (const [name, guard] of Object.entries(guards)) {
    if (typeof guard !== 'function') continue;
    wrapped[name] = (args: unknown, params: unknown): boolean => {
      failpoint(`guard:${name}`);
      return (guard as AnyFn)(args, params) as boolean;
    };
  }
  return wrapped;
}

/**
 * A failpoint from its text form (`ACTORHUB_FAILPOINT` of the CLI, tests): `<site>` throws at
 * every call of that action or guard, `<site>@<n>` only at the n-th. Sites are action names
 * (`presence`, `subscribe`, …) or `guard:<name>` (`guard:isFull`).
 */
export function parseFailpoint(spec: string): Failpoint {
  const at = spec.lastIndexOf('@');
  const site = at > 0 ? spec.slice(0, at) : spec;
  const nth = at > 0 ? Number(spec.slice(at + 1)) : 0;
  if (!Number.isSafeInteger(nth) || nth < 0) throw new Error(`failpoint "${spec}": expected <site> or <site>@<n>`);
  let calls = 0;
  return (name) => {
    if (name !== site) return;
    calls++;
    if (nth === 0 || calls === nth) throw new Error(`failpoint ${site} (call ${calls})`);
  };
}
