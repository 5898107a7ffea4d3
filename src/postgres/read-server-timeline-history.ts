// The history of the server's current timeline, asked over the replication protocol (TIMELINE_HISTORY): it needs
// only the REPLICATION attribute the archiver has anyway, not superuser or file access to pg_wal.
import type { RuntimeCluster } from '../config/index.js';
import { LifeboatError, describeError } from '../errors/index.js';
import { connectPostgres } from './connect-postgres.js';
import { parseTimelineHistory, type TimelineSwitch } from './timeline-history.js';
import type { TimelineId } from './wal-segment.js';

/** The parents of `timeline` with the LSN each one switched away at, oldest first; none for timeline 1. */
export async function readServerTimelineHistory(postgres: RuntimeCluster['postgres'], timeline: TimelineId): Promise<TimelineSwitch[]> {
  if (timeline === 1) return [];
  const client = await connectPostgres(postgres, 'lifeboat-timeline-history', { replication: true });
  try {
    // A TimelineId is a validated positive integer: nothing here comes from outside as text.
    const { rows } = await client.query<{ content: Buffer | string | null }>(`TIMELINE_HISTORY ${timeline}`);
    const content = rows[0]?.content;
    if (content === undefined || content === null) {
      throw new LifeboatError('postgresTool', `the server returned no history for its timeline ${timeline}`, {
        hint: 'check that the server\'s pg_wal holds the history file of its current timeline',
      });
    }
    return parseTimelineHistory(Buffer.isBuffer(content) ? content.toString('utf8') : content, timeline);
  } catch (error) {
    if (error instanceof LifeboatError) throw error;
    throw new LifeboatError('postgresUnavailable', `reading the history of timeline ${timeline} from the server failed: ${describeError(error)}`, {
      hint: 'the archiver needs a role with REPLICATION that may connect to clusters[].postgres.dbname',
      cause: error,
    });
  } finally {
    await client.end().catch(() => undefined);
  }
}
