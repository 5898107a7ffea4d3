// The set-up and hooks every archiver test file shares (kept out of wal-archiver-runner.ts, which the bench also
// loads and which must not import vitest): before the file, a PostgreSQL with a Lifeboat fixture, its repository
// and an empty `filler` table; on a failed test, the archiver's recent warnings and errors, which explain most
// failures; after the file, close the repository, stop PostgreSQL and remove the fixture.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { openRepository, type Repository } from '../../src/repository/open-repository.js';
import { createCapturedLog, type CapturedLog } from './captured-log.js';
import { createLifeboatFixture, type FixtureOptions, type LifeboatFixture } from './lifeboat-fixture.js';
import { startPostgres, type PostgresServer, type StartPostgresOptions } from './postgres.js';
import { ensureCliBuilt } from './wal-archiver-runner.js';

/** What an archiver test file works on once its beforeAll ran. */
export interface ArchiverSuite {
  pg: PostgresServer;
  fixture: LifeboatFixture;
  /** The fixture's repository, open for writing; closed after the file. */
  repository: Repository;
}

export interface ArchiverSuiteOptions {
  postgres?: StartPostgresOptions;
  fixture?: FixtureOptions;
  /** Build dist/ first (ensureCliBuilt), for files that run `lifeboat` as a child process. Default false. */
  cli?: boolean;
}

/**
 * Registers the file's hooks and returns the log its archivers should write to (printed on a failed test).
 * beforeAll (120 s) starts the suite and hands it to `ready`; `options` may be a function, called first in that
 * beforeAll, for a file that must start something the fixture refers to (an S3 endpoint). Whatever started is
 * stopped after the file, also when the set-up failed halfway.
 */
export function registerArchiverSuite(options: ArchiverSuiteOptions | (() => Promise<ArchiverSuiteOptions>), ready: (suite: ArchiverSuite) => void): CapturedLog {
  const captured = createCapturedLog();
  const state: Partial<ArchiverSuite> = {};
  beforeAll(async () => {
    const resolved = typeof options === 'function' ? await options() : options;
    if (resolved.cli) ensureCliBuilt();
    const pg = (state.pg = await startPostgres(resolved.postgres));
    const fixture = (state.fixture = createLifeboatFixture(pg, resolved.fixture));
    const repository = (state.repository = await openRepository(fixture.config, 'write'));
    // insertFillerRows and writeAndSwitch (wal-archiver-runner.ts) write WAL into this table.
    await pg.query('create table filler (id bigserial primary key, payload text not null)');
    ready({ pg, fixture, repository });
  }, 120_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(`archiver warnings and errors before the failure:\n${captured.recentProblems()}`);
  });
  afterAll(async () => {
    state.repository?.close();
    await state.pg?.stop();
    state.fixture?.cleanup();
  });
  return captured;
}
