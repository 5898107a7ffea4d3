#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build produces dist/). The heap is tuned before anything
// else loads, hence the dynamic imports: for streaming (see src/compress/heap-tuning.ts), except in the daemon, which
// streams nothing itself and runs for months (src/daemon/long-running-heap.ts). The module compile cache (Node 22+)
// saves ~20% of start-up, which `wal fetch` pays once per WAL segment during a restore.
import module from 'node:module';

module.enableCompileCache?.();
const { requestedGroup } = await import('../dist/cli/requested-group.js');
if (requestedGroup(process.argv)[0] === 'daemon') (await import('../dist/daemon/long-running-heap.js')).tuneHeapForLongRunning();
else (await import('../dist/compress/heap-tuning.js')).tuneHeapForStreams();
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
