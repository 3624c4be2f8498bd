import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMachine } from 'xstate';
import { BEGIN, END, machineSection, machinesBlock, spliceBlock } from '../../docs/tools/machine-diagram.js';

describe('machine diagrams', () => {
  it('docs/machines.md holds exactly what the machines generate (run `npm run docs:machines`)', async () => {
    const committed = readFileSync(new URL('../../docs/machines.md', import.meta.url), 'utf8');
    const block = await machinesBlock();
    expect(committed.slice(committed.indexOf(BEGIN), committed.indexOf(END) + END.length)).toBe(block);
  });

  it('draws every machine of machines/', async () => {
    const block = await machinesBlock();
    expect(block).toContain('### hub — `hubMachine`');
    expect(block).toContain('### client — `clientMachine`');
    expect(block).toContain('running --> draining : hub.shutdown');
    expect(block).toContain('draining --> stopped : always [isEmpty]');
  });

  it('draws nested states, guards, delays and final states from the definition', () => {
    const machine = createMachine({
      id: 'door',
      initial: 'closed',
      states: {
        closed: { on: { open: { target: 'opened', guard: 'unlocked' }, knock: { actions: 'answer' } } },
        opened: {
          initial: 'swinging',
          states: { swinging: { after: { 500: 'still' } }, still: {} },
          on: { close: 'closed', break: 'gone' },
        },
        gone: { type: 'final' },
      },
    });
    const text = machineSection({ name: 'doorMachine', file: 'x.ts', machine });
    expect(text).toContain('closed --> opened : open [unlocked]');
    expect(text).toContain('state opened {');
    expect(text).toContain('opened_swinging --> opened_still : after 500');
    expect(text).toContain('gone --> [*]');
    expect(text).toContain('| closed | `knock` | — | — | answer |');
  });

  it('replaces only the generated block', () => {
    const doc = `intro\n${BEGIN}\nold\n${END}\noutro\n`;
    expect(spliceBlock(doc, `${BEGIN}\nnew\n${END}`)).toBe(`intro\n${BEGIN}\nnew\n${END}\noutro\n`);
  });
});
