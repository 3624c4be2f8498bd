import { readdir } from 'node:fs/promises';
import { StateMachine, type AnyStateMachine, type AnyStateNode } from 'xstate';

/**
 * Mermaid state diagrams drawn from the machine definitions themselves (machine.root and its
 * transitions), so docs/machines.md cannot drift from machines/. `npm run docs:machines`
 * writes them; test/tools/machine-diagram.test.ts fails when the committed file differs.
 */

export interface FoundMachine {
  /** The export's name, e.g. hubMachine. */
  readonly name: string;
  /** Where it is defined, relative to the repository root. */
  readonly file: string;
  readonly machine: AnyStateMachine;
}

interface Row {
  readonly state: string;
  readonly event: string;
  readonly guard: string;
  readonly target: string;
  readonly actions: string;
}

const nameOf = (thing: unknown): string => {
  if (typeof thing === 'string') return thing;
  // Built-in actions are functions carrying their type (xstate.raise...); authored ones are objects or names.
  const type = (thing as { type?: unknown } | null)?.type;
  if (typeof type === 'string') return type;
  if (typeof thing === 'function') return thing.name || 'inline';
  return 'inline';
};

/** Actions XState adds itself (the raise behind `after`): not part of what the author wrote. */
const authored = (actions: readonly unknown[]): string[] => actions.map(nameOf).filter((a) => !a.startsWith('xstate.'));

/** Mermaid ids may not hold dots; the state's path is unique within a machine. */
const idOf = (node: AnyStateNode): string => node.path.join('_') || node.machine.id;

const label = (node: AnyStateNode): string => node.path.join('.') || '(machine)';

/** Table cells: a pipe would end the cell. */
const cell = (text: string): string => (text === '' ? '—' : text.replace(/\|/g, '\\|'));

function rowsOf(node: AnyStateNode): Row[] {
  const rows: Row[] = [];
  const delays = new Map<string, string>((node.after ?? []).map((t) => [t.eventType, String(t.delay)]));
  const push = (event: string, t: { guard?: unknown; target?: readonly AnyStateNode[] | undefined; actions: readonly unknown[] }): void => {
    rows.push({
      state: label(node),
      event,
      guard: t.guard ? nameOf(t.guard) : '',
      target: t.target?.length ? t.target.map(label).join(', ') : '',
      actions: authored(t.actions).join(', '),
    });
  };
  for (const [eventType, transitions] of node.transitions) {
    const delay = delays.get(eventType);
    for (const t of transitions) push(delay === undefined ? eventType : `after ${delay}`, t);
  }
  for (const t of node.always ?? []) push('always', t);
  return rows;
}

function walk(node: AnyStateNode, visit: (node: AnyStateNode) => void): void {
  visit(node);
  for (const child of Object.values(node.states) as AnyStateNode[]) walk(child, visit);
}

/** Edge label: event [guard]; targetless transitions stay in the table, not on the picture. */
const edgeLabel = (row: Row): string => `${row.event}${row.guard ? ` [${row.guard}]` : ''}`;

function drawStates(node: AnyStateNode, indent: string, lines: string[]): void {
  const children = Object.values(node.states) as AnyStateNode[];
  const initial = node.initial?.target ?? [];
  for (const target of initial) lines.push(`${indent}[*] --> ${idOf(target)}`);
  for (const child of children) {
    if (Object.keys(child.states).length > 0) {
      lines.push(`${indent}state ${idOf(child)} {`);
      drawStates(child, `${indent}  `, lines);
      lines.push(`${indent}}`);
    }
    const notes = [
      ...(child.invoke ?? []).map((i) => `invokes ${nameOf(i.src)}`),
      ...authored(child.entry ?? []).map((a) => `entry / ${a}`),
      ...authored(child.exit ?? []).map((a) => `exit / ${a}`),
    ];
    for (const note of notes) lines.push(`${indent}${idOf(child)} : ${note}`);
    for (const row of rowsOf(child)) {
      if (!row.target) continue;
      for (const target of row.target.split(', ')) {
        const node2 = findByLabel(child.machine.root, target);
        if (node2) lines.push(`${indent}${idOf(child)} --> ${idOf(node2)} : ${edgeLabel(row)}`);
      }
    }
    if (child.type === 'final') lines.push(`${indent}${idOf(child)} --> [*]`);
  }
}

function findByLabel(root: AnyStateNode, wanted: string): AnyStateNode | undefined {
  let found: AnyStateNode | undefined;
  walk(root, (n) => {
    if (!found && label(n) === wanted) found = n;
  });
  return found;
}

/** One machine: its diagram, then every transition (targetless ones included) as a table. */
export function machineSection(found: FoundMachine): string {
  const root = found.machine.root;
  const lines = ['```mermaid', 'stateDiagram-v2', '  direction LR'];
  drawStates(root, '  ', lines);
  lines.push('```');
  const rows: Row[] = [];
  walk(root, (n) => rows.push(...rowsOf(n)));
  const invokes = (root.invoke ?? []).map((i) => `\`${i.id}\` (${nameOf(i.src)})`);
  return [
    `### ${found.machine.id} — \`${found.name}\` in [${found.file}](../${found.file})`,
    '',
    ...(invokes.length ? [`Invokes for its whole life: ${invokes.join(', ')}.`, ''] : []),
    ...lines,
    '',
    '| state | event | guard | target | actions |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.state)} | \`${r.event}\` | ${cell(r.guard)} | ${cell(r.target)} | ${cell(r.actions)} |`),
    '',
  ].join('\n');
}

/** Every exported StateMachine of every *.machine.{ts,js} file in machines/, in file order. */
export async function findMachines(dir: URL = new URL('../../machines/', import.meta.url)): Promise<FoundMachine[]> {
  const files = (await readdir(dir)).filter((f) => /\.machine\.(ts|js)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const found: FoundMachine[] = [];
  for (const file of files) {
    const module = (await import(new URL(file, dir).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module).sort(([a], [b]) => a.localeCompare(b))) {
      if (value instanceof StateMachine) found.push({ name, file: `machines/${file.replace(/\.js$/, '.ts')}`, machine: value });
    }
  }
  return found;
}

export const BEGIN = '<!-- generated by npm run docs:machines: do not edit by hand -->';
export const END = '<!-- end of generated diagrams -->';

/** The generated block of docs/machines.md. */
export async function machinesBlock(): Promise<string> {
  const sections = (await findMachines()).map(machineSection);
  return [BEGIN, '', ...sections, END].join('\n');
}

/** Puts the generated block into the document, between the markers (appended when absent). */
export function spliceBlock(document: string, block: string): string {
  const start = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (start === -1 || end === -1 || end < start) return `${document.trimEnd()}\n\n${block}\n`;
  return `${document.slice(0, start)}${block}${document.slice(end + END.length)}`;
}
