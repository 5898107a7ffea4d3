// Rewrites the configuration reference in README.md from the compiled schema (run `npm run build` first).
import { readFileSync, writeFileSync } from 'node:fs';
import { formatConfigReference, REFERENCE_START, REFERENCE_END } from '../dist/config/index.js';

const readme = readFileSync('README.md', 'utf8');
const start = readme.indexOf(REFERENCE_START);
const end = readme.indexOf(REFERENCE_END);
if (start < 0 || end < 0) throw new Error(`README.md lacks the ${REFERENCE_START} / ${REFERENCE_END} markers`);
writeFileSync('README.md', `${readme.slice(0, start + REFERENCE_START.length)}\n${formatConfigReference()}\n${readme.slice(end)}`);
console.log('README.md configuration reference updated');
