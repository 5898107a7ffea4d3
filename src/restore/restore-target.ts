// What a DBA asks a restore for, parsed and checked before anything is touched: a time (with a zone, kept to
// the microsecond), an LSN, a named point, the backup's consistent point, or the latest WAL.
import { LifeboatError } from '../errors/index.js';
import { formatLsn, parseLsn, type Lsn } from '../postgres/index.js';

export type RestoreTarget =
  | { kind: 'time'; /** As PostgreSQL will read it (recovery_target_time). */ text: string; /** Microseconds since the Unix epoch. */ micros: bigint; inclusive: boolean }
  | { kind: 'lsn'; lsn: Lsn; inclusive: boolean }
  | { kind: 'name'; name: string }
  | { kind: 'immediate' }
  | { kind: 'latest' };

export type TargetAction = 'promote' | 'pause' | 'shutdown';

export interface RestoreTargetOptions {
  toTime?: string;
  toLsn?: string;
  toName?: string;
  immediate?: boolean;
  latest?: boolean;
  inclusive?: boolean;
  exclusive?: boolean;
  targetAction?: string;
}

const TIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?\s*(Z|UTC|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Parse a timestamp that must carry a zone; returns PostgreSQL-readable text and microseconds since the epoch. */
export function parseTargetTime(text: string): { text: string; micros: bigint } {
  const match = TIME_PATTERN.exec(text.trim());
  if (!match) {
    throw new LifeboatError('usage', `"${text}" is not a timestamp lifeboat understands`, {
      hint: 'write it as 2026-11-29T14:02:59Z or 2026-11-29 14:02:59.123456+01:00',
    });
  }
  const [, year, month, day, hour, minute, second = '00', fraction = '', zone] = match;
  if (!zone) {
    throw new LifeboatError('usage', `the target time "${text}" has no time zone, so it could mean different instants`, {
      hint: `add the zone it is meant in, e.g. "${text.trim()}Z" for UTC or "${text.trim()}+01:00"`,
    });
  }
  const offset = /^(Z|UTC)$/i.test(zone) ? '+00:00' : zone.length === 3 ? `${zone}:00` : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}${offset}`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new LifeboatError('usage', `"${text}" is not a valid date or time`, { hint: 'check the month, day and hour ranges' });
  const micros = BigInt(ms) * 1000n + BigInt(fraction.padEnd(6, '0'));
  return { text: `${year}-${month}-${day} ${hour}:${minute}:${second}${fraction ? `.${fraction}` : ''}${offset}`, micros };
}

/** The target in words, for people: `latest`, `time 2026-11-29 14:02:59+00:00`, `LSN 0/3000148 (exclusive)`, `restore point NAME`. */
export function formatRestoreTarget(target: RestoreTarget): string {
  switch (target.kind) {
    case 'latest':
      return 'latest (all archived WAL, partial segments included)';
    case 'immediate':
      return "immediate (the backup's consistent point)";
    case 'time':
      return `time ${target.text}${target.inclusive ? '' : ' (exclusive)'}`;
    case 'lsn':
      return `LSN ${formatLsn(target.lsn)}${target.inclusive ? '' : ' (exclusive)'}`;
    case 'name':
      return `restore point ${target.name}`;
  }
}

/** Exactly one target, and only the modifiers PostgreSQL honours for it. */
export function parseRestoreTarget(options: RestoreTargetOptions): { target: RestoreTarget; action: TargetAction } {
  const given = [
    options.toTime !== undefined && '--to-time',
    options.toLsn !== undefined && '--to-lsn',
    options.toName !== undefined && '--to-name',
    options.immediate && '--immediate',
    options.latest && '--latest',
  ].filter((flag): flag is string => typeof flag === 'string');
  if (given.length !== 1) {
    throw new LifeboatError('usage', given.length === 0 ? 'no restore target given' : `choose one restore target, not ${given.join(' and ')}`, {
      hint: 'use exactly one of --to-time TS, --to-lsn LSN, --to-name NAME, --immediate, --latest',
    });
  }
  if (options.inclusive && options.exclusive) throw new LifeboatError('usage', '--inclusive and --exclusive contradict each other', { hint: 'keep one (inclusive is the default)' });
  const action = options.targetAction ?? 'promote';
  if (action !== 'promote' && action !== 'pause' && action !== 'shutdown') {
    throw new LifeboatError('usage', `--target-action "${action}" is not one of promote, pause, shutdown`, { hint: 'promote (default) opens the database; pause lets you inspect first; shutdown stops after recovery' });
  }
  if (options.latest && (options.exclusive || options.inclusive || options.targetAction !== undefined)) {
    throw new LifeboatError('usage', `${options.targetAction !== undefined ? '--target-action' : options.exclusive ? '--exclusive' : '--inclusive'} has no effect with --latest: PostgreSQL ignores it when recovering to the end of WAL`, {
      hint: 'drop it, or give an explicit target (--to-time, --to-lsn, --to-name)',
    });
  }
  if ((options.toName !== undefined || options.immediate) && (options.exclusive || options.inclusive)) {
    throw new LifeboatError('usage', '--inclusive/--exclusive apply only to --to-time and --to-lsn', { hint: 'drop the flag' });
  }
  const inclusive = !options.exclusive;
  if (options.toTime !== undefined) return { target: { kind: 'time', ...parseTargetTime(options.toTime), inclusive }, action };
  if (options.toLsn !== undefined) return { target: { kind: 'lsn', lsn: parseLsn(options.toLsn), inclusive }, action };
  if (options.toName !== undefined) return { target: { kind: 'name', name: options.toName }, action };
  if (options.immediate) return { target: { kind: 'immediate' }, action };
  return { target: { kind: 'latest' }, action };
}
