// Entry point of the daemon's WAL archiver child process (forked by archiver-supervisor.ts from dist/). The heap
// policy of a process that runs for months (long-running-heap.ts), not the streaming one of job children, set
// before anything else loads, hence the dynamic import of the child's code.
import { configureZstdPool } from '../compress/zstd-worker-pool.js';
import { tuneHeapForLongRunning } from './long-running-heap.js';

tuneHeapForLongRunning();
// WAL arrives one 16 MiB segment at a time, at a few MB/s: zstd on this thread (hundreds of MB/s at level 3, a few
// ms per block) keeps up, and a worker thread would cost an isolate of its own (10-15 MB) for months.
configureZstdPool({ inline: true });
const { runArchiverChildProcess } = await import('./archiver-child.js');
runArchiverChildProcess();
