#!/usr/bin/env node
// The installed entry point: runs the compiled CLI (npm run build produces dist/). The heap is tuned for streaming
// before anything else loads (see src/compress/heap-tuning.ts), hence the dynamic import.
import { tuneHeapForStreams } from '../dist/compress/heap-tuning.js';

tuneHeapForStreams();
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv);
