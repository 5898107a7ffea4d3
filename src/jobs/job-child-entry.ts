// Entry point of a job's child process (forked by run-job-child.ts from dist/). The heap is tuned for streaming
// before anything else loads (see compress/heap-tuning.ts), hence the dynamic import of the child's code.
import { tuneHeapForStreams } from '../compress/heap-tuning.js';

tuneHeapForStreams();
const { runJobChildProcess } = await import('./job-child.js');
runJobChildProcess();
