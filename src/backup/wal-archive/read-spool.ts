// What pg_receivewal has left in the spool: completed segments (ready to ship), the one growing .partial
// segment at the head, partials it left behind on older timelines, and timeline history files.
import { readdir } from 'node:fs/promises';
import { isWalSegmentName, type WalSegmentName } from '../../postgres/index.js';

export interface SpoolContents {
  /** Completed segments, oldest first. */
  segments: WalSegmentName[];
  /** The segment being written (without the .partial suffix), if any. */
  partial: WalSegmentName | undefined;
  /**
   * Other partials (without suffix): pg_receivewal leaves the last segment of a timeline as .partial when it
   * follows the server onto the next timeline. Never written again; they ship as partials and leave the spool.
   */
  stalePartials: WalSegmentName[];
  /** Timeline history file names, e.g. 00000002.history. */
  histories: string[];
}

const HISTORY_PATTERN = /^[0-9A-F]{8}\.history$/;

export async function readSpool(spoolDir: string): Promise<SpoolContents> {
  const names = await readdir(spoolDir);
  const segments: WalSegmentName[] = [];
  const partials: WalSegmentName[] = [];
  const histories: string[] = [];
  for (const name of names) {
    if (isWalSegmentName(name)) segments.push(name);
    else if (name.endsWith('.partial') && isWalSegmentName(name.slice(0, -'.partial'.length))) partials.push(name.slice(0, -'.partial'.length) as WalSegmentName);
    else if (HISTORY_PATTERN.test(name)) histories.push(name);
  }
  segments.sort();
  partials.sort();
  histories.sort();
  // pg_receivewal writes one partial, the newest: the highest timeline, then segment, which is the highest name.
  return { segments, partial: partials.at(-1), stalePartials: partials.slice(0, -1), histories };
}
