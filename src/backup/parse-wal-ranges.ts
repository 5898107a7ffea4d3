// Reads the WAL-Ranges section at the end of PostgreSQL's backup_manifest: the timeline(s) and LSN range the
// base backup needs replayed to become consistent. The end LSN is the backup's stop point.
import { LifeboatError } from '../errors/index.js';
import { parseLsn, toTimelineId, type Lsn, type TimelineId } from '../postgres/index.js';

export interface WalRange {
  timeline: TimelineId;
  startLsn: Lsn;
  endLsn: Lsn;
}

const RANGE_PATTERN = /\{\s*"Timeline":\s*(\d+),\s*"Start-LSN":\s*"([0-9A-F]+\/[0-9A-F]+)",\s*"End-LSN":\s*"([0-9A-F]+\/[0-9A-F]+)"\s*\}/g;

/**
 * Parse the WAL ranges from the manifest's tail (the section is near the end, so a captured tail suffices).
 * Ranges come newest timeline first in the manifest; returned oldest first.
 */
export function parseWalRanges(manifestTail: string): WalRange[] {
  const section = manifestTail.lastIndexOf('"WAL-Ranges"');
  if (section === -1) {
    throw new LifeboatError('objectCorrupted', 'backup_manifest has no WAL-Ranges section', {
      hint: 'the manifest is truncated or pg_basebackup ran with --no-manifest',
    });
  }
  const ranges = [...manifestTail.slice(section).matchAll(RANGE_PATTERN)].map((m) => ({
    timeline: toTimelineId(Number(m[1])),
    startLsn: parseLsn(m[2]!),
    endLsn: parseLsn(m[3]!),
  }));
  if (ranges.length === 0) throw new LifeboatError('objectCorrupted', 'backup_manifest lists no WAL range');
  return ranges.sort((a, b) => (a.startLsn < b.startLsn ? -1 : a.startLsn > b.startLsn ? 1 : 0));
}
