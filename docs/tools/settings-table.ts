/** The README's table of settings, generated from the registry (src/server/settings.ts). */
import { SETTINGS } from '../../src/server/settings.js';

export const BEGIN = "<!-- settings:begin -->";
export const END = '<!-- settings:end -->';

const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function settingsTable(): string {
  return [
    BEGIN,
    '| flag | environment | default | unit | meaning |',
    '|---|---|---|---|---|',
    ...SETTINGS.map(
      (s) => `| \`--${s.flag}\` | \`${s.env}\` | ${cell(s.default)} | ${s.unit ?? ''} | ${cell(s.help)} |`,
    ),
    END,
  ].join('\n');
}

/** The document with its table replaced (the markers must be there: the table has one home). */
export function spliceTable(document: string): string {
  const start = document.indexOf(BEGIN);
  const end = document.indexOf(END);
  if (start === -1 || end < start) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  return `${document.slice(0, start)}${settingsTable()}${document.slice(end + END.length)}`;
}
