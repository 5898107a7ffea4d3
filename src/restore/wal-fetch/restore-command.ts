// The restore_command a restore arms: a small POSIX sh script, written next to the fetch config, that serves a
// prefetched WAL file with one `mv`, answers "not in the repository" for a name the restoring process found absent
// (mark-absent-wal.ts), and starts `lifeboat wal fetch` (Node, ~0.3 s and ~80 MB a start) only for anything else.
// PostgreSQL runs it once per WAL file, so this is replay's hot path.
import { chownSync, writeFileSync } from 'node:fs';
import { TEMP_NAME_PREFIX } from './atomic-file.js';
import { ABSENT_SUFFIX } from './mark-absent-wal.js';

/** What the script needs: where prefetched files appear and how to run `lifeboat wal fetch` otherwise. */
export interface RestoreCommandPaths {
  /** The prefetch folder (complete, verified files under their WAL names; temp files while downloading). */
  prefetchDir: string;
  /** File the script appends a line to for each name asked: `served NAME`, `absent NAME` or `fetch NAME` (see {@link parseRestoreCommandLog}). */
  logFile: string;
  /** File holding the restoring process's pid while it runs (it prefetches and writes the absent markers). */
  prefetchPidFile: string;
  /** node and bin/lifeboat.js. */
  lifeboatCommand: readonly [string, string];
  /** The restore's fetch config, for `lifeboat wal fetch --restore-config`. */
  fetchConfigPath: string;
  /**
   * A segment to copy out rather than move: the last one, when it comes from a partial, which PostgreSQL reads
   * twice (it retries the segment where the WAL ends before it asks for the next). Default: none.
   */
  keepSegment?: string | undefined;
}

/**
 * One line of the script's log: a name served from the prefetch folder, answered absent from a marker (see
 * mark-absent-wal.ts), or passed to `lifeboat wal fetch`.
 */
export interface RestoreCommandLogLine {
  source: 'served' | 'absent' | 'fetch';
  name: string;
  /** Polls of {@link IN_FLIGHT_POLL_MS} the script waited for the file's download first (replay had caught up). */
  waitedPolls: number;
}

/** The whole lines of the script's log in `text`; anything else (a line being written) is skipped. */
export function parseRestoreCommandLog(text: string): RestoreCommandLogLine[] {
  return [...text.matchAll(/^(served|fetch|absent) (\S+)(?: waited (\d+))?$/gm)].map((match) => ({
    source: match[1] as RestoreCommandLogLine['source'],
    name: match[2]!,
    waitedPolls: Number(match[3] ?? 0),
  }));
}

/** The script's exit code for a failure of its own (a move that failed): PostgreSQL stops recovery, never promotes. */
export const RESTORE_COMMAND_FAILED = 126;

/** How long the script waits for a download of the file it wants that is in flight, before fetching it itself. */
export const IN_FLIGHT_WAIT_SECONDS = 60;

/** How often the script looks for that download's file while it waits. */
export const IN_FLIGHT_POLL_MS = 20;

/** A word for sh: single-quoted, so nothing in it is expanded. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** `text` as PostgreSQL copies it into restore_command: a literal `%` must be written `%%`. */
function escapePercent(text: string): string {
  return text.replace(/%/g, '%%');
}

/** The restore_command setting that runs `scriptPath` (through sh: the work folder may be on a noexec mount). */
export function restoreCommandFor(scriptPath: string): string {
  return `/bin/sh ${escapePercent(shellQuote(scriptPath))} %f %p`;
}

const HEX = '[0-9A-F]';

/** The script's text. Exit codes: 0 served, 1 not in the repository (from `lifeboat wal fetch`; or timeline 1's history file, which never exists), 126 failed. */
export function formatRestoreCommandScript(paths: RestoreCommandPaths, header: string): string {
  const polls = (IN_FLIGHT_WAIT_SECONDS * 1000) / IN_FLIGHT_POLL_MS;
  return `#!/bin/sh
# ${header}
# PostgreSQL's restore_command: sh <this file> %f %p. A WAL file the restore prefetched (complete and verified
# before it got its name) is moved into place; anything else goes to lifeboat wal fetch. Exit codes are
# PostgreSQL's: 0 served, 1 only for a file the repository lacks (recovery may then end), ${RESTORE_COMMAND_FAILED} for a
# failure here (recovery stops: it must never end early, nor promote, because a move failed).
prefetch=${shellQuote(paths.prefetchDir)}
log=${shellQuote(paths.logFile)}
pidfile=${shellQuote(paths.prefetchPidFile)}
keep=${shellQuote(paths.keepSegment ?? '')}

# True while the restoring process, which prefetches and writes the markers, lives.
restoring() {
  pid=
  { read -r pid <"$pidfile"; } 2>/dev/null
  [ -n "$pid" ] && [ -d "/proc/$pid" ]
}
# True while the restoring process is downloading "$1" (its temp file exists and the process lives).
in_flight() {
  restoring || return 1
  for tmp in "$prefetch/${TEMP_NAME_PREFIX}$1-"*; do
    [ -e "$tmp" ] && return 0
  done
  return 1
}

# Notes in the log that "$1" came from the prefetch folder, and how long replay waited for it (in polls).
served() {
  if [ "$polls" -gt 0 ]; then printf 'served %s waited %s\\n' "$1" "$polls"; else printf 'served %s\\n' "$1"; fi 2>/dev/null >>"$log" || :
}
# PostgreSQL never writes a history file for timeline 1, so no repository holds one.
[ "$1" = 00000001.history ] && exit 1

case $1 in
${HEX.repeat(24)} | ${HEX.repeat(8)}.history)
  # Replay caught up with the download of this file: wait for it rather than download it a second time.
  polls=0
  while [ ! -f "$prefetch/$1" ] && [ "$polls" -lt ${polls} ] && in_flight "$1"; do
    sleep ${IN_FLIGHT_POLL_MS / 1000} 2>/dev/null || sleep 1
    polls=$((polls + 1))
  done
  if [ -f "$prefetch/$1" ]; then
    if [ -d "$2" ]; then
      echo "lifeboat restore_command: cannot serve $1: $2 is a directory" >&2
      echo "HINT: remove the directory $2 and start the server again; recovery resumes there" >&2
      exit ${RESTORE_COMMAND_FAILED}
    fi
    # Moved (the kept one copied), never hard-linked: PostgreSQL recycles segment files in place.
    if [ "$1" = "$keep" ]; then
      cp "$prefetch/$1" "$2" && { served "$1"; exit 0; }
    elif mv -f "$prefetch/$1" "$2"; then
      served "$1"
      exit 0
    fi
    if [ -e "$prefetch/$1" ]; then
      echo "lifeboat restore_command: cannot put the prefetched $1 at $2" >&2
      echo "HINT: free space on (or make writable) the file system holding $2, then start the server again; recovery resumes there" >&2
      exit ${RESTORE_COMMAND_FAILED}
    fi
    # Gone meanwhile (the prefetcher dropped it as already replayed): fetch it from the repository.
  fi
  # The restoring process found no such file in its last listing of the repository (renewed every few seconds); a
  # marker is trusted only while that process lives (it would be stale after).
  if [ -f "$prefetch/$1${ABSENT_SUFFIX}" ] && restoring; then
    printf 'absent %s\\n' "$1" 2>/dev/null >>"$log" || :
    exit 1
  fi
  ;;
esac
printf 'fetch %s\\n' "$1" 2>/dev/null >>"$log" || :
exec ${paths.lifeboatCommand.map(shellQuote).join(' ')} wal fetch --restore-config ${shellQuote(paths.fetchConfigPath)} "$1" "$2"
`;
}

/** Writes the script (0700, owned by the PostgreSQL OS user, who runs it). */
export function storeRestoreCommandScript(path: string, text: string, owner?: { uid: number; gid: number }): void {
  writeFileSync(path, text, { mode: 0o700 });
  if (owner) chownSync(path, owner.uid, owner.gid);
}
