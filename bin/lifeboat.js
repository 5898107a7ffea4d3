#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build produces dist/). The heap is tuned for streaming
// before anything else loads (see src/compress/heap-tuning.ts), hence the dynamic import. The module compile cache
// (Node 22+) saves ~20% of start-up, which `wal fetch` pays once per WAL segment during a restore.
import module from 'node:module';

module.enableCompileCache?.();
const { tuneHeapForStreams } = await import('../dist/compress/heap-tuning.js');
tuneHeapForStreams();
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
