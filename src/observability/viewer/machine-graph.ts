import type { AnyStateMachine, AnyStateNode } from 'xstate';

/**
 * A machine's definition as the viewer draws it: its states and every transition (event, guard,
 * target, actions), read from `machine.root` as docs/tools/machine-diagram.ts reads it for the
 * generated docs. Plain JSON: it is sent to the page once.
 */
export interface MachineGraph {
  readonly id: string;
  readonly initial: string | undefined;
  readonly states: readonly { readonly path: string; readonly final: boolean }[];
  readonly transitions: readonly {
    /** The state it leaves, `(machine)` for one handled in every state. */
    readonly source: string;
    readonly event: string;
    readonly guard: string;
    /** Empty for a transition that only runs actions. */
    readonly target: string;
    readonly actions: readonly string[];
  }[];
}

const nameOf = (thing: unknown): string => {
  if (typeof thing === 'string') return thing;
  const type = (thing as { type?: unknown } | null)?.type;
  if (typeof type === 'string') return type;
  if (typeof thing === 'function') return thing.name || 'inline';
  return 'inline';
};

const label = (node: AnyStateNode): string => node.path.join('.') || '(machine)';

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const states: { path: string; final: boolean }[] = [];
  const transitions: MachineGraph['transitions'][number][] = [];
  const visit = (node: AnyStateNode): void => {
    if (node.path.length > 0) states.push({ path: label(node), final: node.type === 'final' });
    const delays = new Map<string, string>((node.after ?? []).map((t) => [t.eventType, String(t.delay)]));
    const push = (
      event: string,
      t: { guard?: unknown; target?: readonly AnyStateNode[] | undefined; actions: readonly unknown[] },
    ) =>
      transitions.push({
        source: label(node),
        event,
        guard: t.guard ? nameOf(t.guard) : '',
        target: t.target?.length ? t.target.map(label).join(', ') : '',
        actions: t.actions.map(nameOf).filter((a) => !a.startsWith('xstate.')),
      });
    for (const [eventType, list] of node.transitions) {
      const delay = delays.get(eventType);
      for (const t of list) push(delay === undefined ? eventType : `after ${delay}`, t);
    }
    for (const t of node.always ?? []) push('always', t);
    for (const child of Object.values(node.states) as AnyStateNode[]) visit(child);
  };
  visit(machine.root);
  return {
    id: machine.id,
    initial: machine.root.initial?.target[0] ? label(machine.root.initial.target[0]) : undefined,
    states,
    transitions,
  };
}
