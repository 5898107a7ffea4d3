// Child-side WAL scan: scanWalSegment over real 16 MiB segments held in memory, several rounds, each round
// timed over all segments. Reading the files is outside the timing; the scan is CPU-bound.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseWalSegmentName } from '../../src/postgres/index.js';
import { scanWalSegment } from '../../src/postgres/wal-scan/index.js';

export interface WalScanParams {
  files: string[];
  rounds: number;
}

export interface WalScanResult {
  bytes: number;
  roundSeconds: number[];
  xactCount: number;
  completeSegments: number;
}

export function runWalScanTask(params: WalScanParams): Promise<WalScanResult> {
  const segments = params.files.map((file) => ({ name: parseWalSegmentName(basename(file)), bytes: readFileSync(file) }));
  const roundSeconds: number[] = [];
  let xactCount = 0;
  let completeSegments = 0;
  for (let round = 0; round < params.rounds; round++) {
    xactCount = 0;
    completeSegments = 0;
    const started = performance.now();
    for (const segment of segments) {
      const summary = scanWalSegment(segment.bytes, segment.name);
      xactCount += summary.xactCount;
      if (summary.complete) completeSegments += 1;
    }
    roundSeconds.push((performance.now() - started) / 1000);
  }
  const bytes = segments.reduce((sum, segment) => sum + segment.bytes.length, 0);
  return Promise.resolve({ bytes, roundSeconds, xactCount, completeSegments });
}
