// Restore targets: exactly one, zones required, microseconds kept, and the combinations PostgreSQL ignores refused.
import { describe, expect, it } from 'vitest';
import { parseRestoreTarget, parseTargetTime } from '../../src/restore/restore-target.js';

describe('parseTargetTime', () => {
  it('keeps microseconds and normalises the zone', () => {
    const parsed = parseTargetTime('2026-11-29 14:02:59.123456+01');
    expect(parsed.text).toBe('2026-11-29 14:02:59.123456+01:00');
    expect(parsed.micros).toBe(BigInt(Date.parse('2026-11-29T13:02:59Z')) * 1000n + 123456n);
    expect(parseTargetTime('2026-11-29T14:02:59Z').text).toBe('2026-11-29 14:02:59+00:00');
  });

  it('refuses a timestamp without a zone, saying which zone to add', () => {
    expect(() => parseTargetTime('2026-11-29 14:02:59')).toThrow(/has no time zone/);
    try {
      parseTargetTime('2026-11-29 14:02:59');
    } catch (error) {
      expect((error as { hint: string }).hint).toContain('2026-11-29 14:02:59Z');
    }
  });

  it('refuses nonsense and impossible dates', () => {
    expect(() => parseTargetTime('yesterday')).toThrow(/not a timestamp/);
    expect(() => parseTargetTime('2026-13-45 10:00:00Z')).toThrow(/not a valid date/);
  });
});

describe('parseRestoreTarget', () => {
  it('needs exactly one target', () => {
    expect(() => parseRestoreTarget({})).toThrow(/no restore target/);
    expect(() => parseRestoreTarget({ latest: true, toLsn: '0/1' })).toThrow(/choose one restore target/);
  });

  it('refuses --exclusive and --target-action with --latest (PostgreSQL would ignore them)', () => {
    expect(() => parseRestoreTarget({ latest: true, exclusive: true })).toThrow(/--exclusive has no effect with --latest/);
    expect(() => parseRestoreTarget({ latest: true, targetAction: 'pause' })).toThrow(/--target-action has no effect with --latest/);
  });

  it('defaults to inclusive and promote', () => {
    const { target, action } = parseRestoreTarget({ toLsn: '0/3000028' });
    expect(target).toMatchObject({ kind: 'lsn', inclusive: true });
    expect(action).toBe('promote');
    expect(parseRestoreTarget({ toTime: '2026-11-29T10:00:00Z', exclusive: true }).target).toMatchObject({ kind: 'time', inclusive: false });
    expect(() => parseRestoreTarget({ toName: 'x', targetAction: 'explode' })).toThrow(/not one of promote, pause, shutdown/);
  });
});
