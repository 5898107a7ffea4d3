// The WAL scanner against a real PostgreSQL: WAL from small, aborted, prepared, subtransaction-heavy and
// page-spanning transactions plus restore points, compared with what pg_waldump prints for the same bytes
// and with pg_xact_commit_timestamp; then a flipped byte, a live segment with a recycled tail and its
// zero-padded .partial form. (Scan speed is measured by `npm run bench`, not here.)
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresServer } from '../harness/postgres.js';
import { formatLsn, lsnFromBigInt, parseLsn, type Lsn } from '../../src/postgres/lsn.js';
import { nextWalSegment, parseWalSegmentName, segmentStartLsn, type WalSegmentName } from '../../src/postgres/wal-segment.js';
import { scanWalSegment, type WalScanCarry, type WalScanSummary } from '../../src/postgres/wal-scan/index.js';

const SEGMENT_BYTES = 16 * 1024 * 1024;
const PAGE_BYTES = 8192;

interface DumpedRecord {
  rmgr: string;
  totalLength: number;
  lsn: Lsn;
  desc: string;
}

interface Dump {
  records: DumpedRecord[];
  stderr: string;
}

/** Runs pg_waldump over `first..last` in `dir` (TZ=UTC: it prints timestamps in local time). Exit status 1 at invalid WAL is expected. */
function runWaldump(bindir: string, dir: string, first: WalSegmentName, last: WalSegmentName = first): Promise<Dump> {
  return new Promise((resolve, reject) => {
    execFile(join(bindir, 'pg_waldump'), ['--path', dir, first, last], { env: { ...process.env, TZ: 'UTC' }, maxBuffer: 512 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') return reject(error);
      const pattern = /^rmgr: (\S+)\s+len \(rec\/tot\):\s*\d+\/\s*(\d+), tx:\s*\d+, lsn: ([0-9A-F]+\/[0-9A-F]+), prev [0-9A-F]+\/[0-9A-F]+, desc: (.*)$/;
      const records = stdout.split('\n').flatMap((line): DumpedRecord[] => {
        const match = pattern.exec(line);
        return match === null ? [] : [{ rmgr: match[1]!, totalLength: Number(match[2]), lsn: parseLsn(match[3]!), desc: match[4]! }];
      });
      resolve({ records, stderr });
    });
  });
}

/** EndRecPtr of a record: its bytes laid over pages (skipping page headers), then MAXALIGNed. */
function recordEnd(lsn: Lsn, totalLength: number): Lsn {
  let position = lsn as bigint;
  let remaining = BigInt(totalLength);
  for (;;) {
    const pageEnd = (position / BigInt(PAGE_BYTES) + 1n) * BigInt(PAGE_BYTES);
    const taken = remaining < pageEnd - position ? remaining : pageEnd - position;
    position += taken;
    remaining -= taken;
    if (remaining === 0n) break;
    position = pageEnd + (pageEnd % BigInt(SEGMENT_BYTES) === 0n ? 40n : 24n);
  }
  return lsnFromBigInt((position + 7n) & ~7n);
}

const XACT_DESC = /^(COMMIT|ABORT|COMMIT_PREPARED|ABORT_PREPARED) (?:\d+: )?(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) UTC/;

/** What the scanner should report for the records pg_waldump printed. */
function expectedFrom(records: DumpedRecord[]) {
  const xacts = records.flatMap((record) => {
    const match = record.rmgr === 'Transaction' ? XACT_DESC.exec(record.desc) : null;
    return match === null ? [] : [{ time: new Date(`${match[2]}T${match[3]}.${match[4]!.slice(0, 3)}Z`), end: recordEnd(record.lsn, record.totalLength) }];
  });
  const restorePoints = records.flatMap((record) => {
    const match = record.rmgr === 'XLOG' ? /^RESTORE_POINT (.*)$/.exec(record.desc) : null;
    return match === null ? [] : [{ name: match[1]!, lsn: recordEnd(record.lsn, record.totalLength) }];
  });
  const last = records.at(-1);
  return {
    xactCount: xacts.length,
    firstXactTime: xacts[0]?.time,
    lastXactTime: xacts.at(-1)?.time,
    lastXactLsn: xacts.at(-1)?.end,
    restorePoints,
    firstRecordLsn: records[0]?.lsn,
    endsWithSwitch: last !== undefined && last.rmgr === 'XLOG' && last.desc.startsWith('SWITCH'),
    lastRecordEnd: last === undefined ? undefined : recordEnd(last.lsn, last.totalLength),
  };
}

/** Asserts that a scan of the bytes pg_waldump read reports exactly what pg_waldump printed. */
function expectScanMatchesDump(summary: WalScanSummary, records: DumpedRecord[]): void {
  const expected = expectedFrom(records);
  expect(expected.xactCount).toBeGreaterThan(0);
  expect(summary.xactCount).toBe(expected.xactCount);
  expect(summary.firstXactTime).toEqual(expected.firstXactTime);
  expect(summary.lastXactTime).toEqual(expected.lastXactTime);
  expect(summary.lastXactLsn).toBe(expected.lastXactLsn);
  expect(summary.restorePoints.map(({ name, lsn }) => ({ name, lsn }))).toEqual(expected.restorePoints);
  expect(summary.firstRecordLsn).toBe(expected.firstRecordLsn);
  const segmentEnd = lsnFromBigInt(segmentStartLsn(summary.segment) + BigInt(SEGMENT_BYTES));
  expect(summary.endLsn).toBe(expected.endsWithSwitch ? segmentEnd : expected.lastRecordEnd);
}

/** A copy of `bytes` in its own directory under its segment name, for pg_waldump. */
async function stage(root: string, label: string, segment: WalSegmentName, bytes: Uint8Array): Promise<string> {
  const dir = join(root, label);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, segment), bytes);
  return dir;
}

describe('scanWalSegment on PostgreSQL WAL, checked with pg_waldump', () => {
  let server: PostgresServer;
  let workDir: string;
  const walDir = (): string => join(server.dataDir, 'pg_wal');
  const lsnOf = async (sql: string): Promise<Lsn> => parseLsn(String((await server.query<{ lsn: string }>(sql))[0]?.lsn));
  const walFileOf = async (sql: string): Promise<WalSegmentName> => parseWalSegmentName(String((await server.query<{ name: string }>(sql))[0]?.name));
  const commitMs = async (xid: string): Promise<number> => {
    const [row] = await server.query<{ ms: string }>('select floor(extract(epoch from pg_xact_commit_timestamp($1::xid)) * 1000)::text as ms', [xid]);
    return Number(row?.ms);
  };
  const insertReturningXmin = async (note: string): Promise<string> =>
    String((await server.query<{ xmin: string }>('insert into lb_rows(note) values ($1) returning xmin::text', [note]))[0]?.xmin);

  /** Segments first..last of phase one, copied before a checkpoint can recycle them. */
  const segments: WalSegmentName[] = [];
  let firstXid = '';
  let lastXid = '';
  const restorePoints: { name: string; lsn: Lsn; afterMs: number; beforeMs: number }[] = [];

  beforeAll(async () => {
    // No autovacuum: the only transactions are the test's, so first/last commits are known rows. wal_keep_size
    // keeps the mid-run checkpoint from recycling segments before they are copied.
    server = await startPostgres({
      settings: { autovacuum: 'off', synchronous_commit: 'off', max_prepared_transactions: '5', wal_keep_size: '1GB' },
    });
    workDir = await mkdtemp(join(tmpdir(), 'lifeboat-wal-scan-'));
    await server.query('create table lb_rows (id bigserial primary key, note text)');
    // pg_switch_wal() returns the end of its switch record, inside the segment it closes; ours is the next.
    const first = nextWalSegment(await walFileOf('select pg_walfile_name(pg_switch_wal()) as name'));

    firstXid = await insertReturningXmin('first');
    // Many small transactions; every 50th rolls back (an ABORT record, as its xid was assigned).
    await server.query(`do $$ begin for i in 1..150000 loop insert into lb_rows(note) values ('n' || i);
      if i % 50 = 0 then rollback; else commit; end if; end loop; end $$`);
    // Page-spanning records: a TOASTed row, a 200 kB logical message, a commit listing 3000 subtransactions.
    await server.query(`insert into lb_rows(note) select string_agg(md5(random()::text), '') from generate_series(1, 3000)`);
    await server.query(`select pg_logical_emit_message(false, 'lifeboat', repeat('m', 200000))`);
    await server.query(`do $$ begin for i in 1..3000 loop begin insert into lb_rows(note) values ('sub'); exception when others then null; end; end loop; end $$`);
    await server.query(`begin; insert into lb_rows(note) values ('2pc-commit'); prepare transaction 'lb-commit'`);
    await server.query(`commit prepared 'lb-commit'`);
    await server.query(`begin; insert into lb_rows(note) values ('2pc-abort'); prepare transaction 'lb-abort'`);
    await server.query(`rollback prepared 'lb-abort'`);
    for (const name of ['lb-before-migration', 'lb point with spaces', 'lb-after']) {
      const [row] = await server.query<{ lsn: string; before: string; after: string }>(
        `select (extract(epoch from clock_timestamp()) * 1000)::bigint::text as before, pg_create_restore_point($1)::text as lsn,
                (extract(epoch from clock_timestamp()) * 1000)::bigint::text as after`,
        [name],
      );
      restorePoints.push({ name, lsn: parseLsn(String(row?.lsn)), beforeMs: Number(row?.before) - 1, afterMs: Number(row?.after) + 1 });
      await server.query(`do $$ begin for i in 1..300 loop insert into lb_rows(note) values ('rp'); commit; end loop; end $$`);
    }
    // After a checkpoint, updates write full-page images: more multi-page records.
    await server.query('checkpoint');
    await server.query(`update lb_rows set note = note || 'u' where id % 97 = 0`);
    lastXid = await insertReturningXmin('last');
    const last = await walFileOf('select pg_walfile_name(pg_switch_wal()) as name');

    for (let segment = first; ; segment = nextWalSegment(segment)) {
      segments.push(segment);
      await copyFile(join(walDir(), segment), join(workDir, segment));
      if (segment === last) break;
    }
  });

  afterAll(async () => {
    await server?.stop();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  });

  it('reports, segment by segment, the commits, aborts and restore points pg_waldump prints; measures the speed', async () => {
    expect(segments.length).toBeGreaterThanOrEqual(2);
    const [control] = await server.query<{ id: string }>('select system_identifier::text as id from pg_control_system()');
    for (const segment of segments) {
      const bytes = await readFile(join(workDir, segment));
      const summary = scanWalSegment(bytes, segment);
      const dump = await runWaldump(server.bindir, workDir, segment);
      expectScanMatchesDump(summary, dump.records);
      expect(summary).toMatchObject({ segment, timeline: 1, systemIdentifier: control?.id, pgMajor: server.version, complete: true });
      expect(summary.invalidReason).toBeUndefined();
    }
  });

  it('chains segments with the carry: records crossing a boundary are counted once, totals equal pg_waldump over the range', async () => {
    let carry: WalScanCarry | undefined;
    const summaries: WalScanSummary[] = [];
    for (const segment of segments) {
      const summary = scanWalSegment(await readFile(join(workDir, segment)), segment, { continueFrom: carry });
      summaries.push(summary);
      carry = summary.carry;
    }
    const dump = await runWaldump(server.bindir, workDir, segments[0]!, segments.at(-1)!);
    const expected = expectedFrom(dump.records);
    expect(summaries.reduce((sum, summary) => sum + summary.xactCount, 0)).toBe(expected.xactCount);
    expect(summaries.flatMap((summary) => summary.restorePoints.map(({ name, lsn }) => ({ name, lsn })))).toEqual(expected.restorePoints);
    expect(summaries[0]?.firstXactTime).toEqual(expected.firstXactTime);
    expect(summaries.at(-1)?.lastXactTime).toEqual(expected.lastXactTime);
    expect(summaries.at(-1)?.lastXactLsn).toBe(expected.lastXactLsn);

    // The known first and last rows' commit timestamps, as the server recorded them.
    expect(summaries[0]?.firstXactTime?.getTime()).toBe(await commitMs(firstXid));
    expect(summaries.at(-1)?.lastXactTime?.getTime()).toBe(await commitMs(lastXid));
    // Restore points: the LSN pg_create_restore_point returned, a time between the calls around it.
    const found = summaries.flatMap((summary) => summary.restorePoints);
    expect(found.map(({ name, lsn }) => ({ name, lsn }))).toEqual(restorePoints.map(({ name, lsn }) => ({ name, lsn })));
    found.forEach((point, index) => {
      expect(point.time.getTime()).toBeGreaterThanOrEqual(restorePoints[index]!.beforeMs);
      expect(point.time.getTime()).toBeLessThanOrEqual(restorePoints[index]!.afterMs);
    });
  });

  it('stops at a flipped byte inside a commit record: the record before it is the end (CRC-32C)', async () => {
    const segment = segments[0]!;
    const bytes = await readFile(join(workDir, segment));
    const { records } = await runWaldump(server.bindir, workDir, segment);
    // A commit in the middle whose predecessor ends on the same page, so its start is the predecessor's end.
    const index = records.findIndex((record, at) => {
      const previous = records[at - 1];
      const offset = Number((record.lsn as bigint) % BigInt(SEGMENT_BYTES));
      return at > records.length / 2 && record.desc.startsWith('COMMIT ') && previous !== undefined &&
        recordEnd(previous.lsn, previous.totalLength) === record.lsn && (offset % PAGE_BYTES) + record.totalLength <= PAGE_BYTES;
    });
    const victim = records[index]!;
    const corrupted = Uint8Array.from(bytes);
    corrupted[Number((victim.lsn as bigint) % BigInt(SEGMENT_BYTES)) + 28]! ^= 0x01; // inside xact_time

    const summary = scanWalSegment(corrupted, segment);
    expect(summary).toMatchObject({ endLsn: victim.lsn, complete: false, invalidReason: `incorrect resource manager data checksum in record at ${formatLsn(victim.lsn)}` });
    const dump = await runWaldump(server.bindir, await stage(workDir, 'flipped', segment, corrupted), segment);
    expect(dump.stderr).toContain(`incorrect resource manager data checksum in record at ${formatLsn(victim.lsn)}`);
    expectScanMatchesDump(summary, dump.records);
    expect(dump.records).toEqual(records.slice(0, index));
  });

  it('scans the live segment over a recycled tail, and its zero-padded .partial copy, where pg_waldump stops', async () => {
    // A checkpoint recycles the full segments above into future names; walk into one of them.
    await server.query('alter system set wal_keep_size = 0');
    await server.query('select pg_reload_conf()');
    await server.query('checkpoint');
    let live: WalSegmentName | undefined;
    let bytes = new Uint8Array(0);
    let flushOffset = 0;
    for (let attempt = 0; attempt < 8 && live === undefined; attempt++) {
      await server.query('select pg_switch_wal()');
      await server.query(`do $$ begin for i in 1..200 loop insert into lb_rows(note) values ('live' || i); if i % 7 = 0 then rollback; else commit; end if; end loop; end $$`);
      await server.query(`select pg_create_restore_point('lb-live')`);
      await server.query(`set synchronous_commit = on; insert into lb_rows(note) values ('flushed')`);
      const segment = await walFileOf('select pg_walfile_name(pg_current_wal_flush_lsn()) as name');
      const flush = await lsnOf('select pg_current_wal_flush_lsn()::text as lsn');
      const copy = new Uint8Array(await readFile(join(walDir(), segment)));
      const view = new DataView(copy.buffer);
      const tailPage = Math.ceil(Number((flush as bigint) % BigInt(SEGMENT_BYTES)) / PAGE_BYTES + 1) * PAGE_BYTES;
      const oldPage = view.getUint16(tailPage, true) === 0xd110 && view.getBigUint64(tailPage + 8, true) !== segmentStartLsn(segment) + BigInt(tailPage);
      if (oldPage) {
        live = segment;
        bytes = copy;
        flushOffset = Number((flush as bigint) % BigInt(SEGMENT_BYTES));
      }
    }
    expect(live, 'no recycled segment came into use').toBeDefined();
    const segment = live!;

    const liveSummary = scanWalSegment(bytes, segment);
    const liveDump = await runWaldump(server.bindir, await stage(workDir, 'live', segment, bytes), segment);
    expectScanMatchesDump(liveSummary, liveDump.records);
    expect(liveSummary.complete).toBe(false);
    expect(liveSummary.restorePoints.map((point) => point.name)).toEqual(['lb-live']);
    expect(Number((liveSummary.endLsn as bigint) % BigInt(SEGMENT_BYTES))).toBeGreaterThanOrEqual(flushOffset);

    const partial = new Uint8Array(SEGMENT_BYTES);
    partial.set(bytes.subarray(0, flushOffset));
    const partialSummary = scanWalSegment(partial, segment);
    const partialDump = await runWaldump(server.bindir, await stage(workDir, 'partial', segment, partial), segment);
    expectScanMatchesDump(partialSummary, partialDump.records);
    expect(partialSummary.complete).toBe(false);
    expect(Number((partialSummary.endLsn as bigint) % BigInt(SEGMENT_BYTES))).toBeLessThanOrEqual(flushOffset);
  });
});
