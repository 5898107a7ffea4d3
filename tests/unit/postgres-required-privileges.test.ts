// The privilege catalog against README (every GRANT it prints is in the ready-to-paste block), the mapping of
// PostgreSQL permission errors (SQLSTATE 42501) onto postgresConfig errors naming the GRANT, and version display.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LifeboatError } from '../../src/errors/index.js';
import { mapQueryError } from '../../src/postgres/map-query-error.js';
import { formatServerVersion, privilegesFor, quoteRole, REQUIRED_PRIVILEGES } from '../../src/postgres/index.js';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('required privileges', () => {
  it('README holds every grant statement and a row for every command that needs one', () => {
    for (const privilege of REQUIRED_PRIVILEGES) {
      expect(README).toContain(privilege.grant('lifeboat'));
      for (const command of privilege.commands) expect(README).toContain(`| \`${command}\` |`);
    }
  });

  it('names the privileges of each command', () => {
    expect(privilegesFor('wal archive').map((p) => p.name)).toEqual(['REPLICATION', 'EXECUTE on pg_catalog.pg_ls_waldir()']);
    expect(privilegesFor('restore-point').map((p) => p.name)).toEqual(['EXECUTE on pg_catalog.pg_create_restore_point(text)']);
    expect(privilegesFor('backup full').map((p) => p.name)).toEqual(['REPLICATION']);
  });

  it('quotes role names so any name is safe in a GRANT', () => {
    expect(quoteRole('lifeboat')).toBe('"lifeboat"');
    expect(quoteRole('Backup "ops"')).toBe('"Backup ""ops"""');
  });
});

describe('mapQueryError', () => {
  it('maps a denied catalog function to postgresConfig naming its GRANT', () => {
    const mapped = mapQueryError(pgError('42501', 'permission denied for function pg_create_restore_point'), 'lb');
    expect(mapped).toBeInstanceOf(LifeboatError);
    expect(mapped).toMatchObject({ code: 'postgresConfig', message: 'role "lb" lacks EXECUTE on pg_catalog.pg_create_restore_point(text), needed by restore-point' });
    expect((mapped as LifeboatError).hint).toContain('GRANT EXECUTE ON FUNCTION pg_catalog.pg_create_restore_point(text) TO "lb";');
  });

  it('maps a missing REPLICATION attribute on slot functions to the ALTER ROLE', () => {
    const mapped = mapQueryError(pgError('42501', 'permission denied to use replication slots'), 'lb') as LifeboatError;
    expect(mapped.code).toBe('postgresConfig');
    expect(mapped.hint).toContain('ALTER ROLE "lb" REPLICATION;');
  });

  it('maps any other permission error to postgresConfig, and leaves other errors alone', () => {
    expect(mapQueryError(pgError('42501', 'permission denied for table secrets'), 'lb')).toMatchObject({ code: 'postgresConfig' });
    const other = pgError('57P01', 'terminating connection due to administrator command');
    expect(mapQueryError(other, 'lb')).toBe(other);
  });
});

describe('formatServerVersion', () => {
  it('prints server_version_num as people write versions', () => {
    expect(formatServerVersion(150020)).toBe('15.20');
    expect(formatServerVersion(170000)).toBe('17.0');
    expect(formatServerVersion(90624)).toBe('9.6.24');
  });
});
