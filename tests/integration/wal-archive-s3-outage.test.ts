// A real S3 outage under the WAL archiver: the archiver ships to a moto server of this file's own, which is
// frozen with SIGSTOP while WAL is written (requests hang, as against a stalled endpoint, rather than failing
// fast), then thawed with SIGCONT. The archiver must survive, keep reporting its state and lag while requests
// hang, and catch up with every segment stored once and no gap. The shared moto servers are not touched.
import { CreateBucketCommand, S3Client, type BucketLocationConstraint } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import type { WalArchiveState } from '../../src/backup/wal-archive/archiver-state.js';
import { isLifeboatError } from '../../src/errors/index.js';
import type { WalSegmentName } from '../../src/postgres/index.js';
import type { Repository } from '../../src/repository/open-repository.js';
import { createS3Storage } from '../../src/storage/index.js';
import { registerArchiverSuite } from '../harness/archiver-suite.js';
import type { LifeboatFixture } from '../harness/lifeboat-fixture.js';
import { MOTO_CREDENTIALS, startMoto, type MotoServer } from '../harness/moto.js';
import type { PostgresServer } from '../harness/postgres.js';
import { waitFor } from '../harness/wait-for.js';
import { findGaps, FIRST_TIMELINE as TIMELINE, readStoredWal, startInProcessArchiver, WAL_SEGMENT_BYTES as SEGMENT_BYTES, writeAndSwitch, type StoredWal } from '../harness/wal-archiver-runner.js';

/** How long moto stays frozen. */
const OUTAGE_MS = 12_000;
const BUCKET = 'lb-outage';
let moto: MotoServer;
let frozen = false;
let pg: PostgresServer;
let fixture: LifeboatFixture;
let repository: Repository;

// The fixture's repository is a bucket on this file's own moto server, started first.
const captured = registerArchiverSuite(
  async () => {
    moto = await startMoto();
    const bucket = BUCKET;
    const s3 = new S3Client({ region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS });
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: moto.region as BucketLocationConstraint } }));
    s3.destroy();
    process.env.LB_OUTAGE_AWS_ACCESS_KEY_ID = MOTO_CREDENTIALS.accessKeyId;
    process.env.LB_OUTAGE_AWS_SECRET_ACCESS_KEY = MOTO_CREDENTIALS.secretAccessKey;
    const credentials = { accessKeyId: { env: 'LB_OUTAGE_AWS_ACCESS_KEY_ID' }, secretAccessKey: { env: 'LB_OUTAGE_AWS_SECRET_ACCESS_KEY' } };
    return { fixture: { overrides: { repository: { driver: 's3', bucket, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, prefix: 'outage/', credentials } } } };
  },
  (suite) => ({ pg, fixture, repository } = suite),
);

afterAll(async () => {
  if (frozen) process.kill(moto.pid, 'SIGCONT');
  await moto?.stop();
});

const stored = (): Promise<StoredWal> => readStoredWal(repository.storage, 'main');

describe('WAL archiving through a real S3 outage', () => {
  it('survives a frozen S3 endpoint, reports lag while it hangs, and stores every segment once with no gap after', async () => {
    const archiver = startInProcessArchiver({ fixture, storage: repository.storage, keys: repository.keys, log: captured.log });
    try {
      await waitFor('a running receiver', () => archiver.latest()?.receiverRunning === true, { timeoutMs: 60_000 });
      const before = await writeAndSwitch(pg);
      await waitFor(`segment ${before} stored`, async () => (await stored()).objectsPerSegment.has(before), { timeoutMs: 60_000 });

      // The outage: every request to S3 hangs (the kernel still accepts connections for the frozen process).
      process.kill(moto.pid, 'SIGSTOP');
      frozen = true;
      const outageStartMs = Date.now();
      const statesBefore = archiver.states.length;
      const during: WalSegmentName[] = [];
      // Meanwhile, the real mapping of a request that times out on the frozen endpoint (a short idle timeout
      // here; the archiver's own requests keep the 120 s default and simply wait): storageUnavailable naming it.
      const probe = createS3Storage({ bucket: BUCKET, region: moto.region, endpoint: moto.endpoint, forcePathStyle: true, credentials: MOTO_CREDENTIALS, prefix: 'probe/', idleTimeoutMs: 2000, maxAttempts: 2 });
      const probed = probe.put('stalled', Buffer.from('x')).then(
        () => ({ error: undefined as unknown, ms: Date.now() - outageStartMs }),
        (error: unknown) => ({ error, ms: Date.now() - outageStartMs }),
      );
      while (Date.now() - outageStartMs < OUTAGE_MS) {
        during.push(await writeAndSwitch(pg));
        await new Promise((resolve) => setTimeout(resolve, 1500));
      }
      const timedOut = await probed;
      const duringOutage: WalArchiveState[] = archiver.states.slice(statesBefore);
      process.kill(moto.pid, 'SIGCONT');
      frozen = false;

      expect(isLifeboatError(timedOut.error, 'storageUnavailable'), String(timedOut.error)).toBe(true);
      expect((timedOut.error as Error).message).toContain(`cannot reach ${moto.endpoint} to put "stalled"`);
      expect(timedOut.ms).toBeLessThan(OUTAGE_MS);
      expect(archiver.hasEnded()).toBe(false);
      // The archiver kept cycling while S3 hung: its state (and so the lag) stayed current.
      expect(duringOutage.length).toBeGreaterThanOrEqual(3);
      expect(Math.max(...duringOutage.map((state) => state.lagBytes))).toBeGreaterThan(SEGMENT_BYTES);

      const after = await writeAndSwitch(pg);
      const wal = await waitFor(`segment ${after} stored after the outage`, async () => {
        if (archiver.hasEnded()) throw new Error(`the archiver stopped: ${String(await archiver.ended)}`);
        const current = await stored();
        return current.objectsPerSegment.has(after) ? current : undefined;
      }, { timeoutMs: 180_000 });
      for (const segment of [before, ...during, after]) expect(wal.objectsPerSegment.get(segment), segment).toBe(1);
      expect([...wal.objectsPerSegment].filter(([, count]) => count !== 1)).toEqual([]);
      expect(findGaps(wal.segments, TIMELINE, SEGMENT_BYTES)).toEqual([]);
      await waitFor('the lag to fall back under one segment', () => (archiver.latest()?.lagBytes ?? Infinity) < SEGMENT_BYTES, { timeoutMs: 60_000 });
      expect(archiver.hasEnded()).toBe(false);
    } finally {
      if (frozen) process.kill(moto.pid, 'SIGCONT');
      frozen = false;
      await archiver.stop();
    }
  }, 300_000);
});
