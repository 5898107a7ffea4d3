// The tables of the vs-pgbackrest case: medians per operation with the Lifeboat / pgBackRest ratios, restore
// phases, archiving lag, the single-command costs, and the peak RSS of every process each tool started.
import { mergeRolePeaks } from '../measure/sample-process-peaks.js';
import { median } from '../measure/summarize-runs.js';
import { fmt, fmtMB, type ReportTable } from '../report/case-report.js';
import type { LagRun } from './archive-lag.js';
import type { SingleCommand } from './single-commands.js';
import { CONTENDER_LABELS, type BackupRun, type Contender, type RestoreRun, type TimedRun } from './versus-operations.js';

type ByContender<R> = Partial<Record<Contender, R[]>>;

export interface VersusRuns {
  backup: ByContender<BackupRun>;
  latest: ByContender<RestoreRun>;
  pitr: ByContender<RestoreRun>;
  lag: ByContender<LagRun & TimedRun>;
  single: SingleCommand[];
}

const CONTENDERS: readonly Contender[] = ['lifeboat', 'pgbackrest', 'pgbackrest-async'];

function medianOf<R>(runs: R[] | undefined, pick: (run: R) => number | null): number | undefined {
  const values = (runs ?? []).map(pick).filter((value): value is number => value !== null && Number.isFinite(value));
  return values.length === 0 ? undefined : median(values);
}

/** `lifeboat / other`; none when `other` shows as zero at `digits` decimals (a catch-up of 0.0 s has no ratio). */
function ratio(lifeboat: number | undefined, other: number | undefined, digits = 0): string {
  if (lifeboat === undefined || other === undefined || Number(other.toFixed(digits)) === 0) return '-';
  return `${(lifeboat / other).toFixed(2)}x`;
}

function summaryRow<R>(operation: string, runs: ByContender<R>, pick: (run: R) => number | null, digits: number): string[] {
  const [lifeboat, pgbackrest, async] = CONTENDERS.map((contender) => medianOf(runs[contender], pick));
  const counts = CONTENDERS.map((contender) => runs[contender]?.length ?? 0).filter((count) => count > 0);
  return [operation, fmt(lifeboat, digits), fmt(pgbackrest, digits), fmt(async, digits), ratio(lifeboat, pgbackrest, digits), ratio(lifeboat, async, digits), counts.join('/')];
}

export function formatVersusTables(runs: VersusRuns): ReportTable[] {
  const mb = (bytes: number): number => bytes / 1e6;
  const tables: ReportTable[] = [
    {
      title: 'Medians (ratio = Lifeboat / pgBackRest: below 1.00x Lifeboat is faster or lags less)',
      headers: ['operation', 'Lifeboat', 'pgBackRest', 'pgBackRest async', 'ratio', 'ratio vs async', 'runs'],
      rows: [
        summaryRow('full backup (s)', runs.backup, (run) => run.seconds, 1),
        summaryRow('restore latest, to first answer (s)', runs.latest, (run) => run.seconds, 1),
        summaryRow('restore to a time (PITR), to first answer (s)', runs.pitr, (run) => run.seconds, 1),
        summaryRow('WAL archiving: max lag under load (MB)', runs.lag, (run) => mb(run.maxLagBytes), 1),
        summaryRow('WAL archiving: catch-up after load (s)', runs.lag, (run) => run.catchUpSeconds, 1),
      ],
    },
    {
      title: 'Restore phases (medians, seconds): files = base backup fetched; replay = server start, WAL replay, promotion',
      headers: ['restore', 'contender', 'files', 'replay', 'to first answer', 'rows counted'],
      rows: (['latest', 'pitr'] as const).flatMap((which) =>
        CONTENDERS.filter((contender) => runs[which][contender] !== undefined).map((contender) => {
          const list = runs[which][contender]!;
          return [which === 'latest' ? 'latest' : 'PITR', CONTENDER_LABELS[contender], fmt(medianOf(list, (run) => run.filesSeconds), 1), fmt(medianOf(list, (run) => run.replaySeconds), 1), fmt(medianOf(list, (run) => run.seconds), 1), String(list[0]!.accounts)];
        }),
      ),
    },
    {
      title: 'Full backup and WAL archiving (medians)',
      headers: ['contender', 'backup s', 'backup stored MB', 'load tps', 'WAL MB/s under load', 'median lag MB', 'max lag MB', 'catch-up s'],
      rows: CONTENDERS.map((contender) => {
        const backups = runs.backup[contender];
        const lags = runs.lag[contender];
        return [
          CONTENDER_LABELS[contender],
          fmt(medianOf(backups, (run) => run.seconds), 1),
          fmt(medianOf(backups, (run) => mb(run.storedBytes)), 1),
          fmt(medianOf(lags, (run) => run.tps), 0),
          fmt(medianOf(lags, (run) => mb(run.walBytes) / run.loadSeconds), 1),
          fmt(medianOf(lags, (run) => mb(run.medianLagBytes)), 1),
          fmt(medianOf(lags, (run) => mb(run.maxLagBytes)), 1),
          fmt(medianOf(lags, (run) => run.catchUpSeconds), 1),
        ];
      }),
    },
    {
      title: 'One short command (median wall ms and peak RSS MB; PostgreSQL runs the fetch once per WAL segment)',
      headers: ['command', 'Lifeboat ms', 'Lifeboat MB', 'pgBackRest ms', 'pgBackRest MB', 'ratio ms'],
      rows: runs.single.map((one) => [one.what, fmt(one.lifeboat.wallMs, 0), fmtMB(one.lifeboat.peakRssBytes), fmt(one.pgbackrest.wallMs, 0), fmtMB(one.pgbackrest.peakRssBytes), ratio(one.lifeboat.wallMs, one.pgbackrest.wallMs)]),
    },
    {
      title: 'Peak RSS of every process each tool started (sampled from /proc every 20 ms over all runs; PostgreSQL server processes not counted)',
      headers: ['operation', 'contender', 'process', 'processes seen', 'peak RSS MB'],
      rows: (
        [
          ['full backup', runs.backup],
          ['restore latest', runs.latest],
          ['restore PITR', runs.pitr],
          ['WAL archiving', runs.lag],
        ] as const
      ).flatMap(([operation, byContender]) =>
        CONTENDERS.flatMap((contender) => {
          const list: readonly TimedRun[] | undefined = byContender[contender];
          if (list === undefined) return [];
          return mergeRolePeaks(list.map((run) => run.peaks)).map((peak) => [operation, CONTENDER_LABELS[contender], peak.role, String(peak.processes), fmtMB(peak.peakRssBytes)]);
        }),
      ),
    },
  ];
  return tables;
}
