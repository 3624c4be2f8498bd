/** `npm run docs:machines`: regenerates the diagrams in docs/machines.md from machines/. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machinesBlock, spliceBlock } from './machine-diagram.js';

// dist/src/machines-docs.js → the repository's docs/ (two levels up), as from src/ (one level up).
const docs = [new URL('../../docs/machines.md', import.meta.url), new URL('../docs/machines.md', import.meta.url)].find((u) =>
  existsSync(fileURLToPath(new URL('.', u))),
)!;
const path = fileURLToPath(docs);
const before = existsSync(path) ? readFileSync(path, 'utf8') : '# State machines\n';
const after = spliceBlock(before, await machinesBlock());
writeFileSync(path, after);
process.stdout.write(`${after === before ? 'unchanged' : 'wrote'} ${path}\n`);
