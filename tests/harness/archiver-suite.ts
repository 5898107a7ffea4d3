// The hooks every archiver test file shares (kept out of wal-archiver-runner.ts, which the bench also loads and
// which must not import vitest): on a failed test, print the archiver's recent warnings and errors, which explain
// most failures; after the file, close the repository, stop PostgreSQL and remove the fixture.
import { afterAll, afterEach } from 'vitest';
import type { Repository } from '../../src/repository/open-repository.js';
import type { CapturedLog } from './captured-log.js';
import type { LifeboatFixture } from './lifeboat-fixture.js';
import type { PostgresServer } from './postgres.js';

/** What an archiver test file holds once its beforeAll ran (anything may be missing if that failed). */
export interface ArchiverSuiteState {
  pg: PostgresServer | undefined;
  fixture: LifeboatFixture | undefined;
  repository: Repository | undefined;
}

export function registerArchiverSuiteHooks(captured: CapturedLog, state: () => ArchiverSuiteState): void {
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') console.error(`archiver warnings and errors before the failure:\n${captured.recentProblems()}`);
  });
  afterAll(async () => {
    const { repository, pg, fixture } = state();
    repository?.close();
    await pg?.stop();
    fixture?.cleanup();
  });
}
