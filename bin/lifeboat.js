#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build produces dist/). The heap is tuned for the command
// (streaming throughput, or low memory for a restore and wal fetch; see src/compress/memory-profile.ts) before
// anything else loads, hence the dynamic imports. The module compile cache (Node 22+) saves ~20% of start-up.
import module from 'node:module';

module.enableCompileCache?.();
const { chooseMemoryProfile } = await import('../dist/cli/choose-memory-profile.js');
const { applyMemoryProfile } = await import('../dist/compress/memory-profile.js');
applyMemoryProfile(chooseMemoryProfile(process.argv));
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
