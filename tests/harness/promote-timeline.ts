// A timeline switch made cheaply on one server: restart it with recovery.signal (and a restore_command that finds
// nothing), so it replays its own pg_wal, ends archive recovery and promotes itself to the next timeline, exactly
// as a restore or a failover would. Only the local runtime exposes the data directory this needs.
import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PostgresServer } from './postgres.js';
import { postgresOsUser } from './run-as-postgres.js';
import { waitFor } from './wait-for.js';

export async function currentTimeline(pg: PostgresServer): Promise<number> {
  const [row] = await pg.query<{ timeline: number }>('select timeline_id as timeline from pg_control_checkpoint()');
  return row!.timeline;
}

/** Ends the server's timeline: it restarts, replays pg_wal as an archive recovery and promotes to `next`. */
export async function promoteToNextTimeline(pg: PostgresServer, next: number): Promise<void> {
  await pg.query("alter system set restore_command = 'false'");
  const signalFile = join(pg.dataDir, 'recovery.signal');
  writeFileSync(signalFile, '');
  const owner = postgresOsUser();
  if (owner !== undefined) chownSync(signalFile, owner.uid, owner.gid);
  await pg.restart();
  await waitFor(`the server promoted to timeline ${next}`, async () => {
    const [row] = await pg.query<{ recovering: boolean; timeline: number }>(
      'select pg_is_in_recovery() as recovering, (select timeline_id from pg_control_checkpoint()) as timeline',
    );
    return row!.recovering === false && row!.timeline === next;
  });
  await pg.query('alter system reset restore_command');
  await pg.query('select pg_reload_conf()');
}
