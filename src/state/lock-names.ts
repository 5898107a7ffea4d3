// Every process lock Lifeboat takes, named in one place so that the CLI, the daemon and their children agree on
// what excludes what. All locks live on the config's stateDir (see process-lock.ts).

/** The WAL archiver of one cluster: one per state folder and cluster (its spool is there). */
export function walArchiveLockName(cluster: string): string {
  return `wal-archive:${cluster}`;
}

/** A full backup of one cluster from this host: its leftovers are provably dead when this lock is free. */
export function backupLockName(cluster: string): string {
  return `backup:${cluster}`;
}

/** The daemon: one per state folder. */
export const DAEMON_LOCK_NAME = 'daemon';

/** Restore drills: at most one per host (state folder) at a time; a drill's scratch server is heavy. */
export const DRILL_LOCK_NAME = 'drill';
