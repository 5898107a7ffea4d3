// Drill ids: `drill-<cluster>-<UTC start>`, e.g. drill-main-20261129T134512Z. The id is also the stored result's key
// (repository-layout.ts checks it), and its fixed-width time makes key order time order: newest drill = last key.
import { DRILL_ID_PATTERN, drillResultKey } from '../storage/index.js';

/** The id of a drill of `cluster` started at `startedAt` (second precision, UTC). */
export function createDrillId(cluster: string, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const drillId = `drill-${cluster}-${stamp}`;
  // Validates the cluster name and the result against the layout's own rule, so an id made here is always storable.
  drillResultKey(cluster, drillId);
  return drillId;
}

/** The UTC start time written in `drillId` (`20261129T134512Z`), or undefined when it is not a drill id. */
export function drillIdStamp(drillId: string): string | undefined {
  return DRILL_ID_PATTERN.exec(drillId)?.[2];
}

/** Sort order newest first: by the start time in the id, then by id (clusters apart), for a stable listing. */
export function compareDrillIdsNewestFirst(a: string, b: string): number {
  const [stampA, stampB] = [drillIdStamp(a) ?? '', drillIdStamp(b) ?? ''];
  if (stampA !== stampB) return stampA > stampB ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
