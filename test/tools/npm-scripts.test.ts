import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isScenario } from '../../bench/scenarios.js';

/**
 * Docs and usage strings name commands a reader will type: each `npm run <script>` must be a
 * script of package.json, and each `npm run bench -- <name>` a scenario bench/main.ts runs.
 * (CHANGELOG.md keeps the names of its day.)
 */
const scripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: object }).scripts);
const files = execFileSync('git', ['ls-files', '*.md', 'bench/*.ts', 'src/**/*.ts', 'docs/tools/*.ts'], {
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f !== '' && f !== 'CHANGELOG.md' && !f.startsWith('docs/api/'));

const mentions = files.flatMap((file) => {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/npm run\s+([a-z][\w:-]*\w)(?:\s+--\s+([a-z][\w-]*))?/g)].map((m) => ({
    file,
    script: m[1]!,
    scenario: m[1] === 'bench' ? m[2] : undefined,
  }));
});

describe('commands named in docs and usage strings', () => {
  it('finds mentions to check (the scan itself works)', () => {
    expect(mentions.length).toBeGreaterThan(20);
    expect(mentions.some((m) => m.scenario !== undefined)).toBe(true);
  });

  it('every `npm run <script>` is a script of package.json', () => {
    expect(mentions.filter((m) => !scripts.includes(m.script)).map((m) => `${m.file}: npm run ${m.script}`)).toEqual(
      [],
    );
  });

  it('every `npm run bench -- <name>` is a benchmark scenario', () => {
    const unknown = mentions.filter(
      (m) => m.scenario !== undefined && m.scenario !== 'list' && !isScenario(m.scenario),
    );
    expect(unknown.map((m) => `${m.file}: npm run bench -- ${m.scenario}`)).toEqual([]);
  });
});
