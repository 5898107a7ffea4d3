// Reads the backup_label file pg_basebackup puts in the archive: where WAL replay must start, on which
// timeline, and when the backup began. It is the authoritative start of a base backup.
import { LifeboatError } from '../errors/index.js';
import { parseLsn, toTimelineId, type Lsn, type TimelineId } from '../postgres/index.js';

export interface BackupLabel {
  startLsn: Lsn;
  startSegment: string;
  checkpointLsn: Lsn;
  startTimeline: TimelineId;
  /** START TIME as written by the server, e.g. "2026-11-29 13:45:12 UTC". */
  startTimeText: string;
  label: string;
}

export function parseBackupLabel(text: string): BackupLabel {
  const field = (name: string): string => {
    const match = new RegExp(`^${name}: (.*)$`, 'm').exec(text);
    if (!match) {
      throw new LifeboatError('objectCorrupted', `backup_label has no "${name}" line`, {
        hint: 'the base backup stream is incomplete or not from pg_basebackup',
      });
    }
    return match[1]!.trim();
  };
  const start = /^([0-9A-F]+\/[0-9A-F]+) \(file ([0-9A-F]{24})\)$/.exec(field('START WAL LOCATION'));
  if (!start) throw new LifeboatError('objectCorrupted', 'backup_label has a malformed START WAL LOCATION line');
  return {
    startLsn: parseLsn(start[1]!),
    startSegment: start[2]!,
    checkpointLsn: parseLsn(field('CHECKPOINT LOCATION')),
    startTimeline: toTimelineId(Number(field('START TIMELINE'))),
    startTimeText: field('START TIME'),
    label: field('LABEL'),
  };
}
