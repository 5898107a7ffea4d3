// How the CLI reports a command once SIGINT/SIGTERM has fired: whatever it failed with becomes one `aborted`
// line (exit 90) naming the command and the signal, never `internal` with a stack; a command's own report of
// the interruption is kept; exit codes a command chose for another program (wal fetch's 126) are kept.
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, InterruptedError, LifeboatError, interruptReason } from '../../src/errors/index.js';
import { formatErrorReport } from '../../src/cli/report-error.js';
import { asInterrupted } from '../../src/cli/report-interrupt.js';

function interrupted(signalName = 'SIGINT'): AbortSignal {
  const controller = new AbortController();
  controller.abort(interruptReason(signalName));
  return controller.signal;
}

describe('asInterrupted', () => {
  it('leaves failures alone while the signal has not fired', () => {
    const error = new Error('boom');
    expect(asInterrupted(error, 'verify', new AbortController().signal, undefined)).toBe(error);
  });

  it('reports an AbortError after SIGTERM as one aborted line naming the command, without a stack', () => {
    const abortError = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });
    const report = formatErrorReport(asInterrupted(abortError, 'backup full', interrupted('SIGTERM'), undefined));
    expect(report).toEqual({ text: 'error[aborted]: backup full interrupted by SIGTERM', exitCode: ERROR_CODES.aborted });
  });

  it('keeps a command\'s own report of what it cleaned up', () => {
    const signal = interrupted();
    const own = new InterruptedError('backup full', signal, 'removed 2 stored parts of backup 20261204T000000Z-F');
    expect(asInterrupted(own, 'backup full', signal, undefined)).toBe(own);
    expect(formatErrorReport(own).text).toBe('error[aborted]: backup full interrupted by SIGINT; removed 2 stored parts of backup 20261204T000000Z-F');
  });

  it('keeps exit codes a command maps for another program', () => {
    class ExitFor126 extends LifeboatError {
      override get exitCode(): number {
        return 126;
      }
    }
    const error = new ExitFor126('aborted', 'fetching the segment was aborted');
    expect(asInterrupted(error, 'wal fetch', interrupted(), undefined)).toBe(error);
  });
});
