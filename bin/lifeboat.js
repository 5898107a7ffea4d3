#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build produces dist/). The heap is tuned for the command
// before anything else loads, hence the dynamic imports: streaming throughput for backups and archiving, low memory
// for a restore and `wal fetch` (src/compress/memory-profile.ts), and the daemon's long-running policy (it streams
// nothing itself and runs for months: src/daemon/long-running-heap.ts). The module compile cache (Node 22+) saves
// ~20% of start-up.
import module from 'node:module';

module.enableCompileCache?.();
const { chooseMemoryProfile } = await import('../dist/cli/choose-memory-profile.js');
const profile = chooseMemoryProfile(process.argv);
// Each branch loads only its own module: the low-memory profile also sizes the zstd pool, which loads zstd-napi.
if (profile === 'long-running') (await import('../dist/daemon/long-running-heap.js')).tuneHeapForLongRunning();
else if (profile === 'low-memory') (await import('../dist/compress/memory-profile.js')).applyMemoryProfile(profile);
else (await import('../dist/compress/heap-tuning.js')).tuneHeapForStreams();
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
