import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BEGIN, END, settingsTable } from '../../docs/tools/settings-table.js';
import { SETTINGS } from '../../src/server/settings.js';

describe('settings table', () => {
  it('README.md holds exactly the table the registry generates (run `npm run docs:settings`)', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length)).toBe(settingsTable());
  });

  it('has one row per setting, each with its flag, variable and default', () => {
    const rows = settingsTable().split('\n').slice(3, -1);
    expect(rows).toHaveLength(SETTINGS.length);
    SETTINGS.forEach((s, i) => {
      expect(rows[i]).toContain(`\`--${s.flag}\``);
      expect(rows[i]).toContain(`\`${s.env}\``);
      expect(rows[i]).toContain(` ${s.default} `);
    });
  });
});
