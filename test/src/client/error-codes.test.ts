import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ClientErrorCode } from '../../../src/client/index.js';

/** docs/client.md tells every code the SDK reports of its own, in one of its two tables. */
describe('ClientErrorCode and docs/client.md', () => {
  it('every code has a row in a table of docs/client.md', () => {
    const doc = readFileSync(new URL('../../../docs/client.md', import.meta.url), 'utf8');
    const rows = new Set([...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]));
    const missing = Object.values(ClientErrorCode).filter((code) => !rows.has(code));
    expect(missing).toEqual([]);
  });
});
