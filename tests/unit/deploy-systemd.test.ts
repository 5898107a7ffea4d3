// deploy/systemd/lifeboat.service through `systemd-analyze verify`. verify refuses a unit whose ExecStart binary is
// missing (no /usr/bin/lifeboat here), so it checks a temporary copy whose ExecStart names this Node binary instead,
// every other line unchanged; and since verify exits 0 even on unknown keys or bad values (it only prints them),
// the check is "exit 0 and no output", shown to catch a typo'd copy.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';

const UNIT = readFileSync(join(import.meta.dirname, '..', '..', 'deploy', 'systemd', 'lifeboat.service'), 'utf8');
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';

function verify(unitText: string): { status: number | null; output: string } {
  const path = join(mkdtempSync(join(tmpdir(), 'lifeboat-unit-')), 'lifeboat.service');
  writeFileSync(path, unitText.replace(/^ExecStart=\/usr\/bin\/lifeboat /m, `ExecStart=${process.execPath} `));
  const result = spawnSync(SYSTEMD_ANALYZE, ['verify', path], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const setting = (name: string): string[] => [...UNIT.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1]!);

describe('systemd unit', () => {
  it('runs lifeboat daemon as its own user, restarts on failure, stops with SIGTERM after the job timeout', () => {
    expect(setting('Type')).toEqual(['simple']);
    expect(setting('ExecStart')).toEqual(['/usr/bin/lifeboat daemon']);
    expect(setting('User')).toEqual(['lifeboat']);
    expect(setting('Restart')).toEqual(['on-failure']);
    expect(setting('KillSignal')).toEqual(['SIGTERM']);
    expect(setting('EnvironmentFile')).toEqual(['/etc/lifeboat/lifeboat.env']);
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-unit-'));
    writeFileSync(join(dir, 'lifeboat.yaml'), 'repository: { driver: fs, path: /r }\nencryption: { provider: local, keyFile: /k }\n');
    const { shutdownTimeoutSeconds } = loadConfig(join(dir, 'lifeboat.yaml'), {}).daemon;
    expect(Number.parseInt(setting('TimeoutStopSec')[0]!, 10)).toBeGreaterThan(shutdownTimeoutSeconds);
    for (const hardening of ['NoNewPrivileges=true', 'ProtectSystem=strict', 'ProtectHome=true', 'PrivateTmp=true', 'ReadWritePaths=/var/lib/lifeboat']) {
      expect(UNIT.split('\n')).toContain(hardening);
    }
  });

  it.skipIf(!existsSync(SYSTEMD_ANALYZE))('passes systemd-analyze verify (skipped where systemd-analyze is not installed)', () => {
    expect(verify(UNIT)).toEqual({ status: 0, output: '' });
    // The check is meaningful: a typo'd key and a bad value are reported.
    const broken = verify(UNIT.replace('ProtectHome=true', 'ProtectHme=true').replace('Restart=on-failure', 'Restart=on-failur'));
    expect(broken.output).toContain("Unknown key 'ProtectHme'");
    expect(broken.output).toContain('on-failur');
  });
});
