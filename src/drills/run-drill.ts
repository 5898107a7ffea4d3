// `lifeboat drill run`: simulate a disaster at instant D, restore into a scratch server Lifeboat starts itself,
// and measure what the disaster would have cost: RPO (data lost, by heartbeat) and RTO (time until the restored
// server answers, by phase), then check the restored data. Reads like run-restore: numbered steps, each with why.
// A failed target or check is a result (exit 1); only a drill that could not run at all is an error.
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { RuntimeCluster, RuntimeConfig } from '../config/index.js';
import type { KeyProvider } from '../crypto/index.js';
import { ERROR_CODES, LifeboatError, describeError, isLifeboatError } from '../errors/index.js';
import { connectPostgres, type PgClient } from '../postgres/index.js';
import { parseRestoreTarget, type RestoreTarget } from '../restore/restore-target.js';
import { runRestore, type RestoreResult } from '../restore/run-restore.js';
import { acquireProcessLock } from '../state/process-lock.js';
import { DRILL_LOCK_NAME } from '../state/lock-names.js';
import type { Storage } from '../storage/index.js';
import { captureDisaster, readSourceTables, type DisasterPoint, type SourceTable } from './capture-disaster.js';
import { checkExtensions, missingLibraryInLog } from './checks/check-extensions.js';
import { checkIsolation } from './checks/check-isolation.js';
import { checkPitrStop } from './checks/check-pitr-stop.js';
import { checkTables } from './checks/check-tables.js';
import { runAmcheck } from './checks/run-amcheck.js';
import { runAssertion } from './checks/run-assertions.js';
import { timedCheck } from './checks/timed-check.js';
import { createCorruptingStorage } from './corrupting-storage.js';
import { createDrillId } from './drill-id.js';
import { decideDrillOutcome, type DrillCheckResult, type DrillResult, type DrillTargetResult } from './drill-result.js';
import type { DrillScenario } from './drill-scenario.js';
import { countHeartbeatsAfter, readNewestHeartbeat } from './heartbeat/read-heartbeat.js';
import { readNewestCommitTime } from './heartbeat/read-newest-commit-time.js';
import { measureRpo } from './measure-rpo.js';
import { createScratchConnector, type ScratchConnector } from './scratch-client.js';
import { removeAbandonedScratch, recordScratch, removeScratch, type ScratchRecord } from './scratch-registry.js';
import { configureScratchServer, pickFreePort } from './scratch-server.js';

export interface RunDrillOptions {
  config: RuntimeConfig;
  cluster: RuntimeCluster;
  scenario: DrillScenario & { file?: string };
  storage: Storage;
  keys: KeyProvider;
  log: Logger;
  signal: AbortSignal;
  lifeboatVersion: string;
  /** Leave the scratch server running (and its folders) for inspection. */
  keep?: boolean;
  /** Folder the scratch data directory is made in. Default the OS temp folder. */
  scratchBaseDir?: string;
  /** Store the result in the repository (best effort: a drill whose repository is gone still reports). */
  storeResult?: (result: DrillResult) => Promise<void>;
  /** Progress for a terminal: the step the drill is in. */
  onStep?: (step: string) => void;
  /** Injected for tests: picks the random instant of `random-time` in [0, 1). */
  random?: () => number;
}

/** The error a failed drill ends with (exit 1), naming the targets and checks that failed. */
export function drillFailedError(result: DrillResult): LifeboatError {
  const failed = [...result.targets, ...result.checks].filter((c) => c.outcome === 'failed');
  return new LifeboatError('drillFailed', `drill ${result.drillId} of cluster ${result.cluster} failed: ${failed.map((c) => `${c.name} (${c.message})`).join('; ')}`, {
    hint: 'the drill report names each failed target and check; a missed RTO or RPO target means a real disaster would cost more than the targets allow',
  });
}

/** The restore target of the scenario; `random-time` draws an instant inside the recoverable window. */
async function chooseTarget(options: RunDrillOptions, storage: Storage, scratchDir: string): Promise<RestoreTarget> {
  const { target } = options.scenario;
  if (target === 'latest') return { kind: 'latest' };
  if (typeof target === 'object') {
    const parsed = 'time' in target ? parseRestoreTarget({ toTime: target.time }) : 'lsn' in target ? parseRestoreTarget({ toLsn: target.lsn }) : parseRestoreTarget({ toName: target.name });
    return parsed.target;
  }
  // A dry run of the latest point gives the window from the repository alone (nothing is written).
  const plan = await runRestore({ ...restoreBase(options, storage, scratchDir), target: { kind: 'latest' }, dryRun: true });
  const earliest = Date.parse(plan.plan.window.earliest.time ?? '');
  const latest = Date.parse(plan.plan.window.latest.time ?? '');
  if (!Number.isFinite(earliest) || !Number.isFinite(latest) || latest - earliest < 2_000) {
    throw new LifeboatError('objectNotFound', `the recoverable window of ${options.cluster.name} (${plan.plan.window.earliest.time ?? '?'} to ${plan.plan.window.latest.time ?? '?'}) is too short for a random point-in-time drill`, {
      hint: 'let the archiver run for a while after a full backup, or run the latest scenario',
    });
  }
  // One second inside each edge: the window's ends are commit times, and the target must lie strictly inside.
  const at = earliest + 1_000 + Math.floor((options.random ?? Math.random)() * (latest - earliest - 2_000));
  return parseRestoreTarget({ toTime: new Date(at).toISOString() }).target;
}

function restoreBase(options: RunDrillOptions, storage: Storage, scratchDir: string) {
  return {
    config: options.config,
    cluster: options.cluster.name,
    storage,
    keys: options.keys,
    log: options.log,
    signal: options.signal,
    targetDir: scratchDir,
    action: 'promote' as const,
    timeline: 'latest' as const,
    force: false,
  };
}

function targetDescription(target: RestoreTarget): DrillResult['restoreTarget'] {
  switch (target.kind) {
    case 'time':
      return { kind: 'time', value: target.text };
    case 'name':
      return { kind: 'name', value: target.name };
    case 'lsn':
      return { kind: 'lsn', value: `${target.lsn}` };
    default:
      return { kind: target.kind };
  }
}

function evaluateTargets(cluster: RuntimeCluster, rpo: DrillResult['rpo'], rtoSeconds: number | undefined, restoreFailed: boolean): DrillTargetResult[] {
  const { rpoSeconds: rpoTarget, rtoSeconds: rtoTarget } = cluster.drill.targets;
  const rpoResult: DrillTargetResult =
    rpo.seconds === undefined
      ? { name: 'rpo', outcome: restoreFailed ? 'failed' : 'skipped', targetSeconds: rpoTarget, message: restoreFailed ? 'RPO unmeasured: the restore did not complete' : 'RPO unmeasured: no heartbeat table and track_commit_timestamp is off' }
      : { name: 'rpo', outcome: rpo.seconds <= rpoTarget ? 'passed' : 'failed', measuredSeconds: rpo.seconds, targetSeconds: rpoTarget, message: `RPO ${rpo.seconds.toFixed(1)} s (target ${rpoTarget} s) by ${rpo.method}${rpo.heartbeatsLost !== undefined ? `, ${rpo.heartbeatsLost} heartbeat(s) lost` : ''}` };
  const rtoResult: DrillTargetResult =
    rtoSeconds === undefined
      ? { name: 'rto', outcome: 'failed', targetSeconds: rtoTarget, message: 'the restored server never answered' }
      : { name: 'rto', outcome: rtoSeconds <= rtoTarget ? 'passed' : 'failed', measuredSeconds: rtoSeconds, targetSeconds: rtoTarget, message: `RTO ${rtoSeconds.toFixed(1)} s (target ${rtoTarget} s)` };
  return [rpoResult, rtoResult];
}

/** RTO's phases from the restore's own timings; `promote` takes the rest, so they add up to the total. */
function rtoPhases(disaster: DisasterPoint, restoreStartedMs: number, restore: RestoreResult, answeredMs: number): DrillResult['rto'] {
  const totalMs = answeredMs - disaster.monotonicMs;
  const plan = restoreStartedMs - disaster.monotonicMs + restore.phases.planMs;
  const fetchBase = restore.phases.fetchBaseMs ?? 0;
  const replay = restore.phases.replayMs ?? 0;
  const promote = Math.max(0, totalMs - plan - fetchBase - replay);
  const s = (ms: number): number => Math.round(ms) / 1000;
  return { seconds: s(totalMs), phases: { plan: s(plan), fetchBase: s(fetchBase), replay: s(replay), promote: s(promote) } };
}

async function runChecks(options: RunDrillOptions, connector: ScratchConnector, admin: PgClient, server: { socketDir: string; port: number }, target: RestoreTarget, tables: SourceTable[] | undefined, restore: RestoreResult): Promise<DrillCheckResult[]> {
  const { scenario } = options;
  const checks: DrillCheckResult[] = [];
  checks.push(await timedCheck('isolation', () => checkIsolation(connector, admin)));
  const databases = (await admin.query<{ datname: string }>('select datname from pg_database where datallowconn and not datistemplate order by 1')).rows.map((r) => r.datname);
  for (const database of databases) {
    checks.push(
      await timedCheck(`extensions:${database}`, async () => {
        const client = await connector.connect(database);
        try {
          return await checkExtensions(client, database);
        } finally {
          await client.end().catch(() => undefined);
        }
      }),
    );
  }
  if (scenario.checks.tables.enabled) {
    if (target.kind !== 'latest') {
      checks.push({ name: 'tables', outcome: 'skipped', durationMs: 0, message: "the source's statistics at D do not describe an earlier point in time; see pitr-stop" });
    } else if (!tables) {
      checks.push({ name: 'tables', outcome: 'skipped', durationMs: 0, message: 'the primary was unreachable at D: no source tables to compare with' });
    } else {
      for (const database of [...new Set(tables.map((t) => t.database))]) {
        checks.push(await timedCheck(`tables:${database}`, () => checkTables(connector, database, tables.filter((t) => t.database === database))));
      }
    }
  }
  if (target.kind === 'time') {
    checks.push(
      await timedCheck('pitr-stop', async () => {
        const primary = await connectPostgres(options.cluster.postgres, 'lifeboat drill').catch(() => undefined);
        try {
          return await checkPitrStop(admin, primary, formatMicrosUtc(target.micros), restore.reached?.lastCommitTime);
        } finally {
          await primary?.end().catch(() => undefined);
        }
      }),
    );
  }
  if (scenario.checks.amcheck.enabled) {
    const wanted = scenario.checks.amcheck.databases ?? databases;
    for (const database of wanted) {
      checks.push(
        await timedCheck(`amcheck:${database}`, () =>
          runAmcheck({ server, superuser: connector.superuser, database, heapallindexed: scenario.checks.amcheck.heapallindexed, signal: options.signal, ...(options.cluster.postgres.bindir ? { bindir: options.cluster.postgres.bindir } : {}) }),
        ),
      );
    }
  }
  for (const assertion of scenario.checks.assertions) checks.push(await timedCheck(`assertion:${assertion.name}`, () => runAssertion(connector, assertion)));
  return checks;
}

export async function runDrill(options: RunDrillOptions): Promise<DrillResult> {
  const { cluster, scenario, log } = options;
  const startedTime = new Date();
  const bindir = options.cluster.postgres.bindir;
  // 1. One drill per host at a time (a scratch server is a whole PostgreSQL); with the lock held, any scratch
  //    server a killed drill left behind is provably abandoned and goes first.
  const lock = await acquireProcessLock(options.config.stateDir, DRILL_LOCK_NAME, `drill of ${cluster.name}`);
  try {
    await removeAbandonedScratch(options.config.stateDir, log, bindir);
    const base: Omit<DrillResult, 'outcome' | 'finishedTime' | 'disasterTime' | 'drillId'> = {
      formatVersion: 1,
      cluster: cluster.name,
      scenario: { name: scenario.name, ...(scenario.file ? { file: scenario.file } : {}), ...(scenario.description ? { description: scenario.description } : {}), settings: { target: scenario.target, source: scenario.source, ...(scenario.corrupt ? { corrupt: scenario.corrupt } : {}), checks: scenario.checks } },
      startedTime: startedTime.toISOString(),
      host: hostname(),
      source: scenario.source,
      restoreTarget: { kind: typeof scenario.target === 'string' ? scenario.target : Object.keys(scenario.target)[0]! },
      rpo: { method: 'unmeasured' },
      rto: { phases: {} },
      targets: [],
      checks: [],
      versions: { lifeboat: options.lifeboatVersion },
    };
    // 2. Replica regions do not exist yet: say so instead of pretending to test one.
    if (scenario.source !== 'primary') {
      const result: DrillResult = { ...base, drillId: createDrillId(cluster.name, startedTime), disasterTime: startedTime.toISOString(), finishedTime: new Date().toISOString(), outcome: 'not-applicable', checks: [{ name: 'source', outcome: 'not-applicable', durationMs: 0, message: `this repository has no replica region "${scenario.source}": cross-region replication is not configured` }] };
      await options.storeResult?.(result).catch((error: unknown) => log.warn({ error: describeError(error) }, 'could not store the drill result in the repository'));
      return result;
    }

    // 3. D: now, on the primary's clock. Everything from here counts against RTO, as it would in a disaster.
    options.onStep?.('disaster');
    const disaster = await captureDisaster(cluster, log);
    const drillId = createDrillId(cluster.name, new Date(disaster.time));
    // The source's tables at D, read beside the restore (the primary is another host's work).
    const sourceTables = scenario.checks.tables.enabled ? readSourceTables(cluster, { exactCounts: scenario.checks.tables.exactCounts, log }).catch(() => undefined) : Promise.resolve(undefined);
    const result: DrillResult = { ...base, drillId, disasterTime: disaster.time, finishedTime: '', outcome: 'failed', versions: { ...base.versions, ...(disaster.serverVersion ? { postgresSource: disaster.serverVersion } : {}) } };

    // 4. The scratch server's folders, recorded before anything is written so a killed drill is cleaned up.
    const scratchDir = join(options.scratchBaseDir ?? tmpdir(), `lifeboat-${drillId}`);
    const record: ScratchRecord = { drillId, pid: process.pid, dataDir: scratchDir, workDir: `${scratchDir}.lifeboat-restore`, startedTime: startedTime.toISOString() };
    recordScratch(options.config.stateDir, record);
    let admin: PgClient | undefined;
    try {
      // 5. The storage the restore reads: the repository, or an overlay that alters one object (corrupt-object).
      let storage = options.storage;
      if (scenario.corrupt) {
        const key = await findCorruptionKey(options, scenario.corrupt.partNumber);
        const info = await options.storage.head(key, { signal: options.signal });
        storage = createCorruptingStorage(options.storage, key, Math.floor((info?.sizeBytes ?? 2) / 2));
        log.info({ key }, 'corrupt-object scenario: one byte of this object is altered as it is read');
      }
      options.onStep?.('plan');
      const restoreStartedMs = performance.now();
      const target = await chooseTarget(options, storage, scratchDir);
      result.restoreTarget = targetDescription(target);
      const port = await pickFreePort();

      // 6. Restore and start: replay, promote. A library the server needs and this host lacks is a finding.
      options.onStep?.('restore');
      let restore: RestoreResult;
      try {
        restore = await runRestore({ ...restoreBase(options, storage, scratchDir), target, dryRun: false, port, start: { timeoutMs: scenario.timeoutSeconds * 1000 }, configureServer: configureScratchServer });
      } catch (error) {
        const library = isLifeboatError(error) ? missingLibraryInLog(error.message) : undefined;
        if (!library) throw error;
        result.checks.push({ name: 'extensions', outcome: 'failed', durationMs: 0, message: `the restored server needs the library "${library}", which this host lacks: a recovery onto a host like this one would not start`, details: error instanceof Error ? error.message : String(error) });
        result.targets = evaluateTargets(cluster, result.rpo, undefined, true);
        return result;
      }
      result.backup = { backupId: restore.plan.backup.backupId, kind: 'full', ...(restore.plan.backup.stopTime ? { stopTime: restore.plan.backup.stopTime } : {}) };
      result.wal = { segments: restore.plan.wal.length, ...(restore.plan.wal[0] ? { firstSegment: restore.plan.wal[0].segment } : {}), ...(restore.plan.wal.at(-1) ? { lastSegment: restore.plan.wal.at(-1)!.segment } : {}), storedBytes: restore.plan.walStoredBytes };

      // 7. RTO ends when the restored server answers a query.
      const server = { socketDir: restore.server.socketDir, port };
      result.scratch = { dataDir: scratchDir, socketDir: server.socketDir, port, kept: options.keep === true };
      const connector = await createScratchConnector(cluster, server);
      admin = await connector.connect(cluster.postgres.dbname);
      const version = (await admin.query<{ v: string }>(`select current_setting('server_version') as v`)).rows[0]!.v;
      result.rto = rtoPhases(disaster, restoreStartedMs, restore, performance.now());
      result.versions.postgresScratch = version;

      // 8. RPO: what the restored server lacks of what the primary had at the reference instant.
      options.onStep?.('measure');
      // The reference as text keeps its microseconds for the comparisons made in PostgreSQL.
      const reference = target.kind === 'time' ? formatMicrosUtc(target.micros) : disaster.time;
      const restored = await readNewestHeartbeat(admin);
      const heartbeatsLost = restored && disaster.clock === 'primary' ? await countLostHeartbeats(cluster, restored.seq, reference) : undefined;
      result.rpo = measureRpo({
        referenceTime: new Date(reference),
        ...(restored ? { restored } : { commitTime: await readNewestCommitTime(admin) }),
        ...(heartbeatsLost !== undefined ? { heartbeatsLost } : {}),
      });
      result.targets = evaluateTargets(cluster, result.rpo, result.rto.seconds, false);

      // 9. Checks, each timed on its own: amcheck alone can take hours on a large database.
      options.onStep?.('check');
      result.checks.push(...(await runChecks(options, connector, admin, server, target, await sourceTables, restore)));
      return result;
    } catch (error) {
      const failure = isLifeboatError(error) ? error : new LifeboatError('internal', describeError(error));
      result.error = { code: failure.code, exitCode: ERROR_CODES[failure.code], message: failure.message, ...(failure.hint ? { hint: failure.hint } : {}) };
      throw Object.assign(failure, { drillResult: result });
    } finally {
      // 10. The scratch server goes (unless --keep), whatever happened; then the record, then the result.
      await admin?.end().catch(() => undefined);
      await removeScratch(options.config.stateDir, record, { keep: options.keep === true, ...(bindir ? { bindir } : {}) }).catch((error: unknown) => log.warn({ error: describeError(error), dataDir: scratchDir }, 'could not remove the scratch server'));
      result.finishedTime = new Date().toISOString();
      result.outcome = decideDrillOutcome(result);
      await options.storeResult?.(result).catch((error: unknown) => log.warn({ error: describeError(error) }, 'could not store the drill result in the repository'));
    }
  } finally {
    lock.release();
  }
}

/** An instant in microseconds since the epoch as ISO 8601 UTC text, microseconds kept. */
function formatMicrosUtc(micros: bigint): string {
  const iso = new Date(Number(micros / 1000n)).toISOString();
  return `${iso.slice(0, 19)}.${String(((micros % 1_000_000n) + 1_000_000n) % 1_000_000n).padStart(6, '0')}Z`;
}

/** Heartbeats the primary wrote after the restored one and by `reference`; undefined when it cannot be asked. */
async function countLostHeartbeats(cluster: RuntimeCluster, afterSeq: number, reference: string): Promise<number | undefined> {
  const primary = await connectPostgres(cluster.postgres, 'lifeboat drill').catch(() => undefined);
  if (!primary) return undefined;
  try {
    return await countHeartbeatsAfter(primary, afterSeq, reference);
  } catch {
    return undefined;
  } finally {
    await primary.end().catch(() => undefined);
  }
}

/** The key of the object the corrupt-object scenario alters: a part of the newest full backup. */
async function findCorruptionKey(options: RunDrillOptions, partNumber: number): Promise<string> {
  const plan = await runRestore({ ...restoreBase(options, options.storage, join(options.scratchBaseDir ?? tmpdir(), 'lifeboat-drill-plan')), target: { kind: 'latest' }, dryRun: true });
  const part = plan.plan.backup.parts[Math.min(partNumber, plan.plan.backup.parts.length) - 1];
  if (!part) throw new LifeboatError('objectNotFound', `backup ${plan.plan.backup.backupId} has no parts to alter`, { hint: 'take a full backup first' });
  return part.key;
}
