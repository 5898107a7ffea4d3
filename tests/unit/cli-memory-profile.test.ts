// Which memory profile each command line gets: a restore and `wal fetch` (the processes beside the restored
// PostgreSQL) low-memory, everything else throughput, whatever global options come first.
import { describe, expect, it } from 'vitest';
import { chooseMemoryProfile } from '../../src/cli/choose-memory-profile.js';

const argv = (...args: string[]): string[] => ['node', 'lifeboat.js', ...args];

describe('chooseMemoryProfile', () => {
  it('keeps restore and wal fetch small, lets the streaming commands go fast', () => {
    expect(chooseMemoryProfile(argv('restore', '--target-dir', '/x', '--latest'))).toBe('low-memory');
    expect(chooseMemoryProfile(argv('-c', 'lifeboat.yaml', 'wal', 'fetch', '000000010000000000000001', 'pg_wal/RECOVERYXLOG'))).toBe('low-memory');
    expect(chooseMemoryProfile(argv('--config', 'restore', 'wal', 'archive'))).toBe('throughput');
    expect(chooseMemoryProfile(argv('backup', 'full'))).toBe('throughput');
    expect(chooseMemoryProfile(argv('daemon'))).toBe('long-running');
    expect(chooseMemoryProfile(argv('drill', 'run'))).toBe('low-memory');
    expect(chooseMemoryProfile(argv('--version'))).toBe('throughput');
  });
});
