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
