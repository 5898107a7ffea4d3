// The daemon's Prometheus metrics, on a registry of its own (never prom-client's global one). Catalog-derived
// gauges are read on scrape through a short cache, so a scrape never hammers the repository and a daemon restart
// changes none of them; job counters count what this daemon ran; the process metrics keep their standard
// `process_*` / `nodejs_*` names (what dashboards and the Prometheus conventions expect; `job`/`instance` already
// say which daemon they belong to). The catalog readers (repository, decryption, WAL scanning: ~7 MB of modules)
// load on the first scrape, so a daemon nobody scrapes never pays for them.
import type { Redis } from 'ioredis';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { WalArchiveState } from '../backup/wal-archive/archiver-state.js';
import type { RuntimeConfig } from '../config/index.js';
import { describeError, type ErrorCode } from '../errors/index.js';
import type { Logger } from '../log/index.js';
import { readArchiverLeaseHolders } from '../jobs/read-archiver-status.js';
import { listRecentRuns } from '../jobs/run-record.js';
import type { Repository } from '../repository/open-repository.js';
import type { ClusterFacts } from './read-cluster-facts.js';

export interface DaemonMetricsOptions {
  config: RuntimeConfig;
  redis: Redis;
  prefix: string;
  daemonId: string;
  log: Logger;
  /** How long catalog reads are reused between scrapes. */
  cacheSeconds?: number;
}

/** What a job's processing ended with, as process-job reports it. */
export interface JobOutcomeEvent {
  cluster: string;
  kind: string;
  outcome: 'done' | 'skipped' | 'duplicate' | 'failed' | 'retrying';
  errorCode?: ErrorCode;
}

export interface DaemonMetrics {
  readonly contentType: string;
  /** The exposition text (collects the catalog-derived gauges, cached). */
  render(): Promise<string>;
  recordJobOutcome(event: JobOutcomeEvent): void;
  close(): void;
}

/** An archiver state older than this means no archiver runs here (it writes its state every few seconds). */
const ARCHIVER_STALE_SECONDS = 60;
const CATALOG_TIMEOUT_MS = 20_000;
const LEASE_READ_TIMEOUT_MS = 2_000;

interface Snapshot {
  clusters: ClusterFacts[];
  /** Clusters whose catalog could not be read this time (their last good facts are kept). */
  failed: Set<string>;
  atSeconds: number;
}

export function createDaemonMetrics(options: DaemonMetricsOptions): DaemonMetrics {
  const { config, log } = options;
  const cacheMs = (options.cacheSeconds ?? 30) * 1000;
  const clusters = config.daemon.clusters ?? config.clusters.map((c) => c.name);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names three gauges `*_total`, which the conventions (and `promtool check metrics`) reserve for
  // counters; their per-type twins (nodejs_active_handles{type} ...) carry the same numbers.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(name);

  // 1. The catalog snapshot, shared by every gauge of one scrape and reused for cacheMs.
  let readers: Promise<[typeof import('../repository/open-repository.js'), typeof import('./read-cluster-facts.js')]> | undefined;
  const loadReaders = (): NonNullable<typeof readers> => (readers ??= Promise.all([import('../repository/open-repository.js'), import('./read-cluster-facts.js')]));
  let repository: Promise<Repository> | undefined;
  let cached: { at: number; snapshot: Promise<Snapshot> } | undefined;
  const lastGood = new Map<string, ClusterFacts>();
  const refresh = async (): Promise<Snapshot> => {
    const signal = AbortSignal.timeout(CATALOG_TIMEOUT_MS);
    const [{ openRepository }, { lastVerify, readCatalogFacts }] = await loadReaders();
    repository ??= openRepository(config, 'read', signal).catch((error: unknown) => {
      repository = undefined;
      throw error;
    });
    const records = await listRecentRuns(options.redis, options.prefix, 2000).catch(() => []);
    const failed = new Set<string>();
    await Promise.all(
      clusters.map(async (cluster) => {
        try {
          const facts = await readCatalogFacts(await repository!, cluster, signal);
          const verify = lastVerify(records, cluster) ?? lastGood.get(cluster)?.lastSuccess.verify;
          if (verify) facts.lastSuccess.verify = verify;
          lastGood.set(cluster, facts);
        } catch (error) {
          failed.add(cluster);
          log.warn({ cluster, err: describeError(error) }, 'metrics: cannot read the catalog; keeping the last values');
        }
      }),
    );
    return { clusters: [...lastGood.values()], failed, atSeconds: Date.now() / 1000 };
  };
  const snapshot = (): Promise<Snapshot> => {
    if (!cached || Date.now() - cached.at > cacheMs) cached = { at: Date.now(), snapshot: refresh() };
    return cached.snapshot;
  };

  // 2. Catalog-derived gauges: the same on every daemon (aggregate with max by (cluster)).
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge, s: Snapshot) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        const s = await snapshot();
        this.reset();
        fill(this, s);
      },
    });
  };
  gauge('lifeboat_catalog_up', 'Whether the last read of the cluster\'s catalog succeeded (1) or failed (0).', ['cluster'], (g, s) => {
    for (const cluster of clusters) g.set({ cluster }, s.failed.has(cluster) || !lastGood.has(cluster) ? 0 : 1);
  });
  gauge('lifeboat_catalog_read_timestamp_seconds', 'When the catalog values were last read from the repository.', [], (g, s) => g.set(s.atSeconds));
  gauge('lifeboat_last_success_timestamp_seconds', 'End of the newest successful run per kind: full/incr from the repository catalog, verify from the run records.', ['cluster', 'kind'], (g, s) => {
    for (const facts of s.clusters) for (const [kind, last] of Object.entries(facts.lastSuccess)) g.set({ cluster: facts.cluster, kind }, last.endSeconds);
  });
  gauge('lifeboat_last_success_duration_seconds', 'Duration of the newest successful run per kind (from the catalog; verify from the run records).', ['cluster', 'kind'], (g, s) => {
    for (const facts of s.clusters) for (const [kind, last] of Object.entries(facts.lastSuccess)) g.set({ cluster: facts.cluster, kind }, last.durationSeconds);
  });
  gauge('lifeboat_backups', 'Backups in the repository catalog per kind (incr counts every increment).', ['cluster', 'kind'], (g, s) => {
    for (const facts of s.clusters) for (const [kind, count] of Object.entries(facts.backups)) g.set({ cluster: facts.cluster, kind }, count);
  });
  gauge('lifeboat_stored_bytes', 'Bytes stored in the repository per kind, compressed and encrypted: full, wal, and incr (the WAL sealed into increments, the same objects as wal: never add incr to wal).', ['cluster', 'kind'], (g, s) => {
    for (const facts of s.clusters) for (const [kind, bytes] of Object.entries(facts.storedBytes)) g.set({ cluster: facts.cluster, kind }, bytes);
  });
  gauge('lifeboat_read_bytes', 'Bytes read from PostgreSQL for what the repository holds, before compression and encryption: full (base backup tar streams), wal (WAL its segments and partials cover).', ['cluster', 'kind'], (g, s) => {
    for (const facts of s.clusters) for (const [kind, bytes] of Object.entries(facts.readBytes)) g.set({ cluster: facts.cluster, kind }, bytes);
  });
  gauge('lifeboat_recoverable_window_earliest_timestamp_seconds', 'Earliest point a restore can reach (commit time).', ['cluster'], (g, s) => {
    for (const facts of s.clusters) if (facts.windowEarliestSeconds !== undefined) g.set({ cluster: facts.cluster }, facts.windowEarliestSeconds);
  });
  gauge('lifeboat_recoverable_window_latest_timestamp_seconds', 'Latest point a restore can reach: the newest commit in the newest archived WAL.', ['cluster'], (g, s) => {
    for (const facts of s.clusters) if (facts.windowLatestSeconds !== undefined) g.set({ cluster: facts.cluster }, facts.windowLatestSeconds);
  });
  gauge('lifeboat_wal_archive_newest_timestamp_seconds', 'When the newest WAL segment or partial was stored in the repository.', ['cluster'], (g, s) => {
    for (const facts of s.clusters) if (facts.newestWalStoredSeconds !== undefined) g.set({ cluster: facts.cluster }, facts.newestWalStoredSeconds);
  });

  gauge('lifeboat_drill_last_timestamp_seconds', 'When the newest restore drill stored in the repository finished.', ['cluster'], (g, s) => {
    for (const facts of s.clusters) if (facts.lastDrill) g.set({ cluster: facts.cluster }, facts.lastDrill.finishedSeconds);
  });
  gauge('lifeboat_drill_last_passed', 'Whether the newest restore drill passed every target and check (1) or failed (0).', ['cluster'], (g, s) => {
    for (const facts of s.clusters) if (facts.lastDrill) g.set({ cluster: facts.cluster }, facts.lastDrill.passed);
  });
  gauge('lifeboat_drill_last_rpo_seconds', 'Data the newest restore drill found lost: D minus the newest heartbeat restored.', ['cluster'], (g, s) => {
    for (const facts of s.clusters) if (facts.lastDrill?.rpoSeconds !== undefined) g.set({ cluster: facts.cluster }, facts.lastDrill.rpoSeconds);
  });
  gauge('lifeboat_drill_last_rto_seconds', 'Time the newest restore drill took from D until the restored server answered.', ['cluster'], (g, s) => {
    for (const facts of s.clusters) if (facts.lastDrill?.rtoSeconds !== undefined) g.set({ cluster: facts.cluster }, facts.lastDrill.rtoSeconds);
  });

  // 3. Archiver-derived gauges, from the archiver state in this daemon's state folder. `holder` names the daemon
  //    whose archiver reported them, so that with several daemons only the archiving one's series are read.
  const archiverGauge = (name: string, help: string, value: (state: WalArchiveState) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ['cluster', 'holder'],
      registers: [registry],
      async collect() {
        this.reset();
        const { readArchiverState } = (await loadReaders())[1];
        for (const cluster of clusters) {
          const state = await readArchiverState(config.stateDir, cluster);
          const v = state ? value(state) : undefined;
          if (v !== undefined && Number.isFinite(v)) this.set({ cluster, holder: options.daemonId }, v);
        }
      },
    });
  };
  const fresh = (updatedTime: string): boolean => Date.now() / 1000 - Date.parse(updatedTime) / 1000 < ARCHIVER_STALE_SECONDS;
  archiverGauge('lifeboat_wal_archiver_up', 'Whether this daemon archives the cluster\'s WAL: its receiver runs and its state is fresh.', (s) => (s.receiverRunning && fresh(s.updatedTime) ? 1 : 0));
  archiverGauge('lifeboat_wal_archive_lag_bytes', 'WAL the server has written beyond what is archived, at the archiver\'s last sample.', (s) => s.lagBytes);
  archiverGauge('lifeboat_wal_archive_lag_seconds', 'Age of the oldest WAL not yet archived (0 when caught up), at the archiver\'s last sample.', (s) => s.lagSeconds);
  archiverGauge('lifeboat_wal_archiver_state_timestamp_seconds', 'When the archiver last wrote its state (it does so every sample).', (s) => Date.parse(s.updatedTime) / 1000);

  // 3b. The archiver lease, from Redis: every daemon reports the same holder (aggregate with max by (cluster, holder)).
  //     A Redis that does not answer leaves the series out rather than invent "no holder".
  new Gauge({
    name: 'lifeboat_wal_archiver_lease_holder',
    help: 'The daemon holding the cluster\'s archiver lease (1, labelled with its id), read from Redis; no series while nobody holds it.',
    labelNames: ['cluster', 'holder'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const holders = await readArchiverLeaseHolders(options.redis, options.prefix, clusters, LEASE_READ_TIMEOUT_MS);
        for (const [cluster, holder] of holders) this.set({ cluster, holder }, 1);
      } catch (error) {
        log.debug({ err: describeError(error) }, 'metrics: cannot read the archiver leases');
      }
    },
  });

  // 4. Job counters: what this daemon ran (sum across daemons: sum by (cluster, kind)).
  const runs = new Counter({ name: 'lifeboat_job_runs_total', help: 'Jobs this daemon processed, by outcome (done, skipped, duplicate, failed, retrying).', labelNames: ['cluster', 'kind', 'outcome'], registers: [registry] });
  const failures = new Counter({ name: 'lifeboat_job_failures_total', help: 'Failed job attempts on this daemon, by error code (retried ones included).', labelNames: ['cluster', 'kind', 'code'], registers: [registry] });

  // Known series start at 0, so that increase() sees the first failure.
  for (const cluster of clusters) for (const kind of config.daemon.jobs) for (const outcome of ['done', 'failed'] as const) runs.inc({ cluster, kind, outcome }, 0);

  return {
    contentType: registry.contentType,
    render: () => registry.metrics(),
    recordJobOutcome(event) {
      runs.inc({ cluster: event.cluster, kind: event.kind, outcome: event.outcome });
      if (event.outcome === 'failed' || event.outcome === 'retrying') failures.inc({ cluster: event.cluster, kind: event.kind, code: event.errorCode ?? 'internal' });
    },
    close() {
      registry.clear();
      void repository?.then((r) => r.close()).catch(() => undefined);
    },
  };
}
