// The privilege catalog against README (every GRANT it prints is in the ready-to-paste block), the heartbeat's
// statement for each state its probe reports, the mapping of PostgreSQL permission errors (SQLSTATE 42501) onto
// postgresConfig errors naming the GRANT, and version display.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LifeboatError } from '../../src/errors/index.js';
import { mapQueryError } from '../../src/postgres/map-query-error.js';
import { parseConfig, resolveConfig } from '../../src/config/index.js';
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
    expect(privilegesFor('daemon').map((p) => p.name)).toEqual(['SELECT, INSERT, DELETE on lifeboat.heartbeat']);
  });

  it('names the heartbeat statement that fixes what the probe found, and needs none with heartbeatSeconds 0', () => {
    const [heartbeat] = privilegesFor('daemon');
    const role = quoteRole('lb');
    expect(heartbeat!.grant(role, 'none')).toBe('CREATE SCHEMA IF NOT EXISTS lifeboat AUTHORIZATION "lb";');
    expect(heartbeat!.grant(role)).toBe(heartbeat!.grant(role, 'none'));
    expect(heartbeat!.grant(role, 'schema')).toBe('GRANT USAGE, CREATE ON SCHEMA lifeboat TO "lb";');
    expect(heartbeat!.grant(role, 'table')).toBe('GRANT USAGE ON SCHEMA lifeboat TO "lb"; GRANT SELECT, INSERT, DELETE ON lifeboat.heartbeat TO "lb";');
    const cluster = (heartbeatSeconds?: number) => {
      const raw = {
        clusters: [{ name: 'main', postgres: { user: 'lb' }, ...(heartbeatSeconds === undefined ? {} : { drill: { heartbeatSeconds } }) }],
        repository: { driver: 'fs', path: './repo' },
        encryption: { provider: 'local', keyFile: './key' },
      };
      return resolveConfig(parseConfig(raw, 'test'), '/tmp/lifeboat.yaml', {}).clusters[0]!;
    };
    expect(heartbeat!.isNeeded?.(cluster())).toBe(true);
    expect(heartbeat!.isNeeded?.(cluster(0))).toBe(false);
    expect(REQUIRED_PRIVILEGES.filter((p) => p !== heartbeat).every((p) => p.isNeeded === undefined)).toBe(true);
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
    // The heartbeat's statement depends on what exists, which only a probe knows: the hint sends to `check`.
    const heartbeat = mapQueryError(pgError('42501', 'permission denied for table heartbeat'), 'lb') as LifeboatError;
    expect(heartbeat).toMatchObject({ code: 'postgresConfig', message: 'role "lb" lacks a privilege: permission denied for table heartbeat' });
    expect(heartbeat.hint).toContain('`lifeboat check` probes them');
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
