// The logger hides secrets by field name and by value, and nothing else: an object key names what a line is
// about (verify's failures, wal fetch's served objects) and must stay readable.
import { afterEach, describe, expect, it } from 'vitest';
import { clearSecretsForTests, createLogger, registerSecret } from '../../src/log/index.js';

function capture(): { lines: string[]; destination: { write(line: string): void } } {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

afterEach(() => clearSecretsForTests());

describe('log redaction', () => {
  it('keeps object keys, redacts secret fields and registered secret values', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', destination });
    registerSecret('hunter2-registered');
    log.error({ key: 'clusters/main/wal/00000002/000000020000000000000003.partial-0000000003000100', code: 'objectCorrupted' }, 'object failed verification');
    log.info({ password: 'pw-field', credentials: { secretAccessKey: 'sak-field' }, keyMaterial: 'km-field', detail: 'said hunter2-registered' }, 'secrets');
    const [first, second] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(first!.key).toBe('clusters/main/wal/00000002/000000020000000000000003.partial-0000000003000100');
    expect(second).toMatchObject({ password: '[redacted]', credentials: { secretAccessKey: '[redacted]' }, keyMaterial: '[redacted]', detail: 'said [redacted]' });
    expect(lines.join('')).not.toMatch(/pw-field|sak-field|km-field|hunter2-registered/);
  });
});
