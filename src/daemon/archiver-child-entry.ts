// Entry point of the daemon's WAL archiver child process (forked by archiver-supervisor.ts from dist/). No stream
// heap tuning here, unlike job children: the archiver runs for months and ships one segment at a time.
import { runArchiverChildProcess } from './archiver-child.js';

runArchiverChildProcess();
