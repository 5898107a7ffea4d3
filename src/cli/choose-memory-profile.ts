// Which memory profile a command line gets, before anything else loads: a restore and `wal fetch`, the processes
// that run while a DBA waits and beside the restored PostgreSQL, are kept small (compress/memory-profile.ts); the
// daemon, which streams nothing itself and runs for months, gets its long-running heap (daemon/long-running-heap.ts);
// the rest stream fast.
import type { MemoryProfile } from '../compress/memory-profile.js';
import { requestedGroup } from './requested-group.js';

export type ProcessProfile = MemoryProfile | 'long-running';

export function chooseMemoryProfile(argv: readonly string[]): ProcessProfile {
  const [group, subcommand] = requestedGroup(argv);
  if (group === 'daemon') return 'long-running';
  return group === 'restore' || group === 'drill' || (group === 'wal' && subcommand === 'fetch') ? 'low-memory' : 'throughput';
}
