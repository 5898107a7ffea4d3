// pg_receivewal creates `<segment>.partial` by zero-filling it to the full segment size, and only then writes WAL
// into it. Killed during that fill (a SIGKILLed archiver, a host crash), it leaves a shorter file, which it then
// refuses forever ("has N bytes, should be 0 or 16777216"), and archiving would stop for good. Such a file holds
// no WAL yet, so finishing the fill is exactly what pg_receivewal would have left.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { WalSegmentName } from '../../postgres/index.js';

/** Zero-fill `<segment>.partial` to `segmentSizeBytes` when it is shorter and not empty; returns its old size then. */
export async function repairPartialPadding(spoolDir: string, segment: WalSegmentName, segmentSizeBytes: number): Promise<number | undefined> {
  const handle = await open(join(spoolDir, `${segment}.partial`), 'r+');
  try {
    const { size } = await handle.stat();
    if (size === 0 || size >= segmentSizeBytes) return undefined;
    await handle.truncate(segmentSizeBytes);
    await handle.sync();
    return size;
  } finally {
    await handle.close();
  }
}
