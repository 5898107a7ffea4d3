// Which memory profile a command line gets (see compress/memory-profile.ts): a restore and `wal fetch`, the
// processes that run while a DBA waits and beside the restored PostgreSQL, are kept small; the rest stream fast.
import type { MemoryProfile } from '../compress/memory-profile.js';
import { requestedGroup } from './requested-group.js';

export function chooseMemoryProfile(argv: readonly string[]): MemoryProfile {
  const [group, subcommand] = requestedGroup(argv);
  return group === 'restore' || (group === 'wal' && subcommand === 'fetch') ? 'low-memory' : 'throughput';
}
