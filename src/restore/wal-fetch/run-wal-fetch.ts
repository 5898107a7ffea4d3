// `lifeboat wal fetch`: what PostgreSQL runs as restore_command for every WAL segment and history file it
// wants during a restore. It serves from the restore's prefetch folder first, else from the repository, and
// answers "not found" only when a successful listing proves the repository lacks a file the restore did not plan:
// PostgreSQL takes "not found" as the end of the archive and may promote, so every other failure (a planned
// segment gone included) is retried, then thrown.
import { join } from 'node:path';
import { describeError, isLifeboatError, LifeboatError } from '../../errors/index.js';
import type { Logger } from '../../log/index.js';
import { readObjectInto } from '../../pipeline/index.js';
import { collectList } from '../../storage/index.js';
import { moveFile, writeFileAtomic } from './atomic-file.js';
import { openFetchRepository, type FetchRepository } from './open-fetch-repository.js';
import { parseWalFetchName, planWalSource, walSourcePrefix } from './plan-wal-source.js';
import { isPlannedSegment } from './planned-wal.js';
import { retryWithBackoff } from './retry-with-backoff.js';
import type { WalFetchConfig } from './wal-fetch-config.js';

/** Options for {@link runWalFetch}. */
export interface RunWalFetchOptions {
  /** Repository, key and prefetch folder; a restore's fetch config fits as is. */
  config: WalFetchConfig;
  /** `%f`: a segment (`000000010000000000000005`) or history file (`00000002.history`) name. */
  name: string;
  /** `%p`: where PostgreSQL wants the file, relative to the working directory (the data directory). */
  destination: string;
  /** Attempts after the first for transient failures. Default 3. */
  retries?: number;
  /** Wait before the first retry, doubled for each further one. Default 1000 ms (1 s, 2 s, 4 s). */
  retryDelayMs?: number;
  log: Logger;
  signal: AbortSignal;
  /** Opens the repository on the first prefetch miss. Default {@link openFetchRepository}; tests inject faults here. */
  openRepository?: (config: WalFetchConfig, signal: AbortSignal) => Promise<FetchRepository>;
}

/** `served`: the file is at the destination. `not-found`: the repository listing holds no such file. */
export type WalFetchResult = 'served' | 'not-found';

/** Default attempts after the first. */
export const DEFAULT_WAL_FETCH_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1000;

/** The error to report: the original code and hint, with the WAL file named in the message. */
function fetchFailure(error: unknown, name: string, attempts: number, signal: AbortSignal): LifeboatError {
  const tried = attempts > 1 ? ` (${attempts} attempts)` : '';
  if (signal.aborted) {
    return new LifeboatError('aborted', `fetching WAL ${name} was interrupted`, { hint: 'PostgreSQL is shutting down or the command was cancelled; it asks again on restart', cause: error });
  }
  if (isLifeboatError(error)) return new LifeboatError(error.code, `cannot fetch WAL ${name}${tried}: ${error.message}`, { hint: error.hint, cause: error });
  return new LifeboatError('internal', `cannot fetch WAL ${name}${tried}: ${describeError(error)}`, { hint: 'this is a bug in lifeboat; please report it', cause: error });
}

/** Serves `name` at `destination`. Throws LifeboatError (naming the file) for anything but served or absent. */
export async function runWalFetch(options: RunWalFetchOptions): Promise<WalFetchResult> {
  const { config, name, destination, signal } = options;
  const log = options.log.child({ component: 'wal-fetch', cluster: config.cluster, wal: name });
  const open = options.openRepository ?? openFetchRepository;
  let repository: FetchRepository | undefined;
  let attempts = 0;
  const startedMs = Date.now();
  try {
    // 1. Parse the name first: a misconfigured restore_command must fail loudly, never look like "not found".
    const request = parseWalFetchName(name);
    return await retryWithBackoff(
      async (): Promise<WalFetchResult> => {
        attempts++;
        // 2. A prefetched file is complete and verified already: moving it is the fastest way to serve.
        if (config.prefetchDir !== undefined && (await moveFile(join(config.prefetchDir, name), destination, signal))) {
          log.info({ source: 'prefetch', durationMs: Date.now() - startedMs }, `served ${name} from the prefetch folder`);
          return 'served';
        }
        // 3. Else the repository: one listing decides between complete segment, newest partial, history, or none.
        repository ??= await open(config, signal);
        const listing = await collectList(repository.storage, walSourcePrefix(config.cluster, request), { signal });
        const source = planWalSource(request, listing);
        if (source === undefined) {
          // The restore planned this segment from a listing that held it: gone now is a failure (retried, in
          // case a listing missed it), never "not found", which would let PostgreSQL promote without it.
          if (request.kind === 'segment' && isPlannedSegment(config.plannedWal ?? [], name)) {
            throw new LifeboatError('objectNotFound', `WAL segment ${name} was planned for this restore but is no longer in the repository`, {
              hint: 'recovery stops here rather than promote without it: put the object back (or restore from a copy of the repository that has it), then start the server again to resume; or restore again to an earlier target',
            });
          }
          log.debug({ durationMs: Date.now() - startedMs }, `${name} is not in the repository`);
          return 'not-found';
        }
        // 4. Stream it verified into a temp file next to the destination; PostgreSQL sees a whole file or none.
        const read = { storage: repository.storage, key: source.key, session: repository.session, expected: source.expected, expectedScope: { cluster: config.cluster, family: 'wal' as const }, signal };
        const sizeBytes = await writeFileAtomic({ path: destination, source: (sink) => readObjectInto(read, sink), signal });
        log.info({ source: source.kind, key: source.key, sizeBytes, durationMs: Date.now() - startedMs }, `served ${name} from the repository`);
        return 'served';
      },
      {
        retries: options.retries ?? DEFAULT_WAL_FETCH_RETRIES,
        firstDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
        signal,
        onRetry: (attempt, delayMs, error) => log.warn({ attempt, delayMs, error: describeError(error) }, `fetching ${name} failed; retrying`),
      },
    );
  } catch (error) {
    throw fetchFailure(error, name, attempts, signal);
  } finally {
    repository?.close();
  }
}
