// The WAL segments a restore planned, as compact per-timeline ranges the restore's fetch config carries, so that
// `wal fetch` can tell "past the end of the archive" (PostgreSQL may end recovery) from "a segment the plan
// needs is gone" (recovery must stop, never promote early). Pure.
import { z } from 'zod';

/** Consecutive planned segments of one timeline, `first` to `last` inclusive (24-hex-digit names). */
export const plannedWalRangeSchema = z.strictObject({ first: z.string().regex(/^[0-9A-F]{24}$/), last: z.string().regex(/^[0-9A-F]{24}$/) });

export type PlannedWalRange = z.infer<typeof plannedWalRangeSchema>;

/**
 * Ranges covering `segments` (the plan's, in replay order): one per timeline along the plan's path. A range
 * spans gaps too: every segment between a timeline's first and last planned one is needed for replay.
 */
export function plannedWalRanges(segments: readonly string[]): PlannedWalRange[] {
  const ranges: PlannedWalRange[] = [];
  for (const segment of segments) {
    const current = ranges.at(-1);
    if (current !== undefined && current.last.slice(0, 8) === segment.slice(0, 8) && segment > current.last) current.last = segment;
    else ranges.push({ first: segment, last: segment });
  }
  return ranges;
}

/** True when `name` (a segment name; history files never are) lies in one of `ranges`. */
export function isPlannedSegment(ranges: readonly PlannedWalRange[], name: string): boolean {
  // Same timeline prefix and fixed-width upper-case hex: string order is segment order.
  return ranges.some((range) => name.slice(0, 8) === range.first.slice(0, 8) && name >= range.first && name <= range.last);
}
