// What each benchmark case hands back to the runner: how its data was set up, its tables (printed as text and
// kept in the JSON results) and the raw figures behind them.

/** A printed table: a title, column headers, and rows of already formatted cells. */
export interface ReportTable {
  title: string;
  headers: string[];
  rows: string[][];
}

export interface CaseReport {
  /** The case name used on the command line (`pipeline`, `full-backup`, ...). */
  name: string;
  title: string;
  /** The commands and settings that produced the data and the numbers, printed above the tables. */
  setup: string[];
  tables: ReportTable[];
  /** Verdicts and observations, printed below the tables. */
  notes: string[];
  /** Every raw figure (all runs), for the JSON results file. */
  data: unknown;
  durationSeconds: number;
  /** 1-minute load average of the host when the case started and ended: other work on the host skews timings. */
  loadAverage: { before: number; after: number };
}

/** Formats a number with `digits` decimals; `-` for NaN or undefined. */
export function fmt(value: number | undefined, digits = 0): string {
  return value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** Bytes as MB (10^6) with one decimal. */
export function fmtMB(bytes: number | undefined): string {
  return bytes === undefined ? '-' : (bytes / 1e6).toFixed(1);
}

/** What a case function returns; the runner adds its duration and the host load. */
export type CaseResult = Omit<CaseReport, 'durationSeconds' | 'loadAverage'>;
