/** `npm run docs:settings`: regenerates the settings table in README.md from src/server/settings.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spliceTable } from './settings-table.js';

const path = fileURLToPath(new URL('../../README.md', import.meta.url));
const before = readFileSync(path, 'utf8');
const after = spliceTable(before);
writeFileSync(path, after);
process.stdout.write(`${after === before ? 'unchanged' : 'wrote'} ${path}\n`);
