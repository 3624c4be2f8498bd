/** `npm run docs:machines`: regenerates the diagrams in docs/machines.md from machines/. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { machinesBlock, spliceBlock } from './machine-diagram.js';

// Run from source with tsx (a dev tool: it is not built into the package).
const path = fileURLToPath(new URL('../machines.md', import.meta.url));
const before = existsSync(path) ? readFileSync(path, 'utf8') : '# State machines\n';
const after = spliceBlock(before, await machinesBlock());
writeFileSync(path, after);
process.stdout.write(`${after === before ? 'unchanged' : 'wrote'} ${path}\n`);
