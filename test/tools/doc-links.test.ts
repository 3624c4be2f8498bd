import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Every relative link of the README and docs/ points at a file of the repository (docs drift
 * when files move; the repository must stand alone, so no link may leave it either).
 */
const files = execFileSync('git', ['ls-files', '*.md'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && !f.startsWith('docs/api/'));

const links = files.flatMap((file) =>
  [...readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
    .map((target) => ({
      file,
      target,
      resolved: path.normalize(path.join(path.dirname(file), target.split('#')[0]!)),
    })),
);

describe('links in the docs', () => {
  it('finds links to check', () => {
    expect(links.length).toBeGreaterThan(50);
  });

  it('every relative link resolves to a file inside the repository', () => {
    const broken = links.filter((l) => l.resolved.startsWith('..') || !existsSync(l.resolved));
    expect(broken.map((l) => `${l.file}: ${l.target}`)).toEqual([]);
  });
});

/**
 * Paths of the repository named in prose — code comments, docs, test names — must exist too:
 * comments that cite a moved file are the drift a newcomer trips on first. CHANGELOG.md keeps
 * the old names on purpose (it tells what moved) and the API reports are generated.
 */
const CITED = /(?:^|[^A-Za-z0-9_./-])((?:src|test|docs|bench|machines)\/[A-Za-z0-9_./-]+\.(?:ts|md|json|js|mjs))/g;
const cited = execFileSync('git', ['ls-files', '*.ts', '*.md', '*.js', '*.json'], { encoding: 'utf8' })
  .split('\n')
  .filter((f) => f !== '' && f !== 'CHANGELOG.md' && f !== 'package-lock.json' && !f.startsWith('docs/api/'))
  .flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .flatMap((line, i) => [...line.matchAll(CITED)].map((m) => ({ where: `${file}:${i + 1}`, path: m[1]! }))),
  );

describe('paths cited in the repository', () => {
  it('finds paths to check', () => {
    expect(cited.length).toBeGreaterThan(100);
  });

  it('every cited path exists', () => {
    expect(cited.filter((c) => !existsSync(c.path)).map((c) => `${c.where}: ${c.path}`)).toEqual([]);
  });
});
