// The deployment files (Dockerfile, deploy/docker-compose.yml, deploy/kubernetes/) against Lifeboat itself: their
// configs pass Lifeboat's config loader, their secrets are references the containers fill, their paths are the
// mounted volumes, the role script grants what README lists. No container engine or cluster runs here, so these
// are static checks, plus the image's HEALTHCHECK command run against the daemon's real health server.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { checkSecrets, loadConfig, readConfigFile, type RuntimeConfig } from '../../src/config/index.js';
import { startHealthServer } from '../../src/daemon/health-server.js';
import { REQUIRED_PRIVILEGES } from '../../src/postgres/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** Every `{ env: NAME }` reference in a parsed config. */
function envReferences(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(envReferences);
  if (value === null || typeof value !== 'object') return [];
  const record = value as Record<string, unknown>;
  if (typeof record.env === 'string' && Object.keys(record).length === 1) return [record.env];
  return Object.values(record).flatMap(envReferences);
}

/** Loads a config text as Lifeboat does, with every env reference set, and resolves its secrets. */
function loadWithSecrets(text: string): { config: RuntimeConfig; envNames: string[] } {
  const path = join(mkdtempSync(join(tmpdir(), 'lifeboat-deploy-')), 'lifeboat.yaml');
  writeFileSync(path, text);
  const envNames = envReferences(readConfigFile(path));
  const config = loadConfig(path, Object.fromEntries(envNames.map((name) => [name, 'not-a-real-secret'])));
  checkSecrets(config);
  return { config, envNames };
}

const DEFAULTS = loadWithSecrets('repository: { driver: fs, path: /r }\nencryption: { provider: local, keyFile: /k }\n').config;

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const directive = (name: string): string[] => [...dockerfile.matchAll(new RegExp(`^${name}\\s+(.+)$`, 'gm'))].map((m) => m[1]!);

  it('builds in one stage and runs on Node LTS slim as a non-root user, lifeboat daemon as the entry', () => {
    expect(directive('FROM')).toEqual(['node:${NODE_MAJOR}-bookworm AS build', 'node:${NODE_MAJOR}-bookworm-slim']);
    expect(directive('ARG')).toEqual(expect.arrayContaining(['NODE_MAJOR=24', 'PG_MAJOR=15']));
    expect(dockerfile).toMatch(/RUN npm ci\n/);
    expect(dockerfile).toContain('npm run build && npm prune --omit=dev');
    expect(dockerfile).toContain('"postgresql-${PG_MAJOR}" "postgresql-client-${PG_MAJOR}"');
    expect(directive('USER')).toEqual(['lifeboat']);
    expect(directive('ENTRYPOINT')).toEqual(['["lifeboat"]']);
    expect(directive('CMD')).toEqual(['["daemon"]']);
    expect(dockerfile).toContain('LIFEBOAT_CONFIG=/etc/lifeboat/lifeboat.yaml');
    expect(directive('VOLUME')).toEqual(['["/var/lib/lifeboat/state"]']);
  });

  it('copies only what .dockerignore lets into the build context', () => {
    const allowed = read('.dockerignore').split('\n').filter((line) => line.startsWith('!')).map((line) => line.slice(1).replace(/\/$/, ''));
    const sources = directive('COPY').filter((args) => !args.startsWith('--from')).flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(allowed, source).toContain(source);
  });

  it('its HEALTHCHECK command passes against the daemon health server and fails when nothing answers', async () => {
    const match = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])$/m.exec(dockerfile);
    const command = JSON.parse(match![1]!) as string[];
    expect(command.slice(0, 2)).toEqual(['node', '-e']);
    const url = /LIFEBOAT_HEALTHZ_URL=(\S+)/.exec(dockerfile)![1]!;
    expect(url).toBe(`http://127.0.0.1:${DEFAULTS.daemon.listen.split(':')[1]}/healthz`);
    // Asynchronous: the health server runs in this process and must answer while the probe runs.
    const probe = (healthzUrl: string): Promise<number | null> =>
      new Promise((resolve) => {
        execFile(process.execPath, command.slice(1), { env: { ...process.env, LIFEBOAT_HEALTHZ_URL: healthzUrl }, timeout: 15_000 }, (error) =>
          resolve(error ? (typeof error.code === 'number' ? error.code : null) : 0),
        );
      });
    const server = await startHealthServer('127.0.0.1:0', {});
    try {
      expect(await probe(`http://${server.address}/healthz`)).toBe(0);
      expect(await probe(`http://${server.address}/nothing-here`)).toBe(1);
    } finally {
      await server.close();
    }
    expect(await probe(`http://${server.address}/healthz`)).toBe(1);
  });
});

describe('deploy/docker-compose.yml', () => {
  interface Service {
    command?: string[];
    environment?: Record<string, string>;
    volumes?: string[];
    stop_grace_period?: string;
  }
  const compose = parseYaml(read('deploy/docker-compose.yml')) as { services: Record<string, Service> };
  const { postgres, redis, lifeboat } = compose.services;

  it('runs PostgreSQL, Redis and one Lifeboat daemon', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['lifeboat', 'postgres', 'redis']);
    expect(postgres!.command).toEqual(expect.arrayContaining(['wal_level=replica']));
  });

  it('gives Redis AOF and noeviction (BullMQ keys must never be evicted)', () => {
    const args = redis!.command!.join(' ');
    expect(args).toContain('--appendonly yes');
    expect(args).toContain('--maxmemory-policy noeviction');
  });

  it('mounts a config that Lifeboat loads, with its secrets from the environment and its paths on volumes', () => {
    expect(lifeboat!.volumes).toContain('./compose/lifeboat.yaml:/etc/lifeboat/lifeboat.yaml:ro');
    const { config, envNames } = loadWithSecrets(read('deploy/compose/lifeboat.yaml'));
    expect(envNames.length).toBeGreaterThan(0);
    for (const name of envNames) expect(lifeboat!.environment?.[name], name).toMatch(/^\$\{[A-Z_]+:\?/);
    expect(config.repository).toEqual({ driver: 'fs', path: '/var/lib/lifeboat/repo' });
    const mounts = lifeboat!.volumes!.map((volume) => volume.split(':')[1]!);
    for (const path of [config.stateDir, config.repository.driver === 'fs' ? config.repository.path : '', config.encryption.provider === 'local' ? dirname(config.encryption.keyFile) : '']) {
      expect(mounts, path).toContain(path);
    }
    expect(config.redis?.url).toMatch(/^redis:\/\/redis:6379/);
    expect(config.daemon.listen).toBe('0.0.0.0:9187');
    expect(Number.parseInt(lifeboat!.stop_grace_period!, 10)).toBeGreaterThan(config.daemon.shutdownTimeoutSeconds);
  });

  it('creates the lifeboat role with exactly the grants README lists, its password never on a command line', () => {
    const script = read('deploy/compose/init-lifeboat-role.sh');
    expect(script).toContain('CREATE ROLE lifeboat WITH LOGIN REPLICATION');
    for (const privilege of REQUIRED_PRIVILEGES.filter((p) => p.name !== 'REPLICATION')) expect(script).toContain(privilege.grant('lifeboat'));
    // One statement per privilege: a GRANT, or the heartbeat's CREATE SCHEMA ... AUTHORIZATION.
    expect(script.match(/^(GRANT|CREATE SCHEMA) /gm)).toHaveLength(REQUIRED_PRIVILEGES.filter((p) => p.name !== 'REPLICATION').length);
    expect(script).toContain('\\getenv pw LIFEBOAT_PGPASSWORD');
    expect(script).toContain('host replication lifeboat');
    expect(postgres!.volumes).toContain('./compose/init-lifeboat-role.sh:/docker-entrypoint-initdb.d/10-lifeboat-role.sh:ro');
  });

  it('keeps the secrets file out of git, with an example to copy', () => {
    expect(read('.gitignore').split('\n')).toContain('deploy/.env');
    expect(read('deploy/.env.example')).toMatch(/^LIFEBOAT_PGPASSWORD=/m);
  });
});

describe('deploy/kubernetes', () => {
  type Doc = { kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string>; stringData?: Record<string, string> };
  const docs = ['configmap.yaml', 'deployment.yaml', 'poddisruptionbudget.yaml', 'secret.example.yaml'].flatMap((file) =>
    parseAllDocuments(read(`deploy/kubernetes/${file}`)).map((doc) => {
      expect(doc.errors, file).toEqual([]);
      return doc.toJS() as Doc;
    }),
  );
  const byKind = (kind: string): Doc => docs.find((doc) => doc.kind === kind)!;
  const deployment = byKind('Deployment');
  interface Container {
    env: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
    livenessProbe: { httpGet: { path: string } };
    readinessProbe: { httpGet: { path: string } };
    resources: { requests: { memory: string }; limits: { memory: string } };
    securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
    volumeMounts: { name: string; mountPath: string }[];
  }
  const template = deployment.spec!.template as {
    metadata: { labels: Record<string, string> };
    spec: { containers: Container[]; securityContext: { runAsNonRoot: boolean; runAsUser: number }; volumes: Record<string, unknown>[]; terminationGracePeriodSeconds: number };
  };
  const container = template.spec.containers[0]!;

  it('holds a ConfigMap, a Deployment, a PodDisruptionBudget and an example Secret', () => {
    expect(docs.map((doc) => doc.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret']);
  });

  it('its ConfigMap holds a config Lifeboat loads, each secret reference filled from the Secret', () => {
    const { config, envNames } = loadWithSecrets(byKind('ConfigMap').data!['lifeboat.yaml']!);
    const secret = byKind('Secret');
    for (const name of envNames) {
      const entry = container.env.find((env) => env.name === name);
      expect(entry?.valueFrom?.secretKeyRef, name).toEqual({ name: secret.metadata.name, key: name });
      expect(Object.keys(secret.stringData!)).toContain(name);
    }
    expect(container.env.find((env) => env.name === 'LIFEBOAT_CONFIG')?.value).toBe('/etc/lifeboat/lifeboat.yaml');
    const stateMount = container.volumeMounts.find((mount) => mount.mountPath === config.stateDir);
    expect(template.spec.volumes.find((volume) => volume.name === stateMount?.name)).toHaveProperty('emptyDir');
    expect(config.daemon.listen).toBe('0.0.0.0:9187');
    expect(template.spec.terminationGracePeriodSeconds).toBeGreaterThan(config.daemon.shutdownTimeoutSeconds);
  });

  it('runs two non-root daemons, probed on /healthz and /readyz, sized for the daemon plus one job child', () => {
    expect(deployment.spec!.replicas).toBe(2);
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(template.spec.securityContext.runAsNonRoot).toBe(true);
    expect(read('Dockerfile')).toContain(`--uid ${template.spec.securityContext.runAsUser} `);
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(container.volumeMounts.map((mount) => mount.mountPath)).toContain('/tmp');
    const mib = (quantity: string): number => Number(/^(\d+)Mi$/.exec(quantity)![1]);
    // Measured (README "Measured numbers"): daemon ~125 MB RSS idle, job child ~215 MB during a full backup.
    expect(mib(container.resources.requests.memory)).toBeGreaterThanOrEqual(125 + 215);
    expect(mib(container.resources.limits.memory)).toBeGreaterThan(mib(container.resources.requests.memory));
  });

  it('keeps at least one daemon through a drain', () => {
    const pdb = byKind('PodDisruptionBudget');
    expect(pdb.spec!.minAvailable).toBe(1);
    expect((pdb.spec!.selector as { matchLabels: Record<string, string> }).matchLabels).toEqual(template.metadata.labels);
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  // `kubectl apply --dry-run=client` needs an API server for its type mapping; `kubectl kustomize` works offline.
  it.skipIf(kubectl.status !== 0)('builds with kubectl kustomize (skipped where kubectl is not installed)', () => {
    const built = spawnSync('kubectl', ['kustomize', join(ROOT, 'deploy/kubernetes')], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    expect(parseAllDocuments(built.stdout).map((doc) => (doc.toJS() as Doc).kind).sort()).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget']);
  });
});
