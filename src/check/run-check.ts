// `lifeboat check`: everything a backup needs, probed before the first backup runs: each cluster's server and
// client programs, the repository, and the key. Read-only towards PostgreSQL; the repository gets a probe object.
import type { RuntimeConfig } from '../config/index.js';
import { openRepository } from '../repository/open-repository.js';
import { checkArchive } from './check-archive.js';
import { checkStep, type CheckItem } from './check-item.js';
import { checkPostgres } from './check-postgres.js';
import { checkRepository } from './check-repository.js';

export interface CheckReport {
  ok: boolean;
  clusters: { cluster: string; items: CheckItem[] }[];
  repository: CheckItem[];
}

export interface RunCheckOptions {
  /** Also the end-to-end archive check (check-archive.ts) for each cluster: needs a running archiver. */
  archive?: boolean;
}

export async function runCheck(config: RuntimeConfig, clusterNames: readonly string[], signal?: AbortSignal, options: RunCheckOptions = {}): Promise<CheckReport> {
  const clusters: CheckReport['clusters'] = [];
  for (const cluster of config.clusters.filter((c) => clusterNames.includes(c.name))) {
    clusters.push({ cluster: cluster.name, items: (await checkPostgres(cluster, signal, options.archive === true)).items });
  }
  let repository: CheckItem[] = [];
  let opened: Awaited<ReturnType<typeof openRepository>> | undefined;
  const open = await checkStep('key', async () => {
    opened = await openRepository(config, 'write', signal);
    return opened.keys.description;
  });
  repository.push(open);
  if (opened) {
    try {
      repository = [...repository, ...(await checkRepository(opened.storage, opened.keys, signal))];
      for (const entry of options.archive ? clusters : []) {
        const cluster = config.clusters.find((c) => c.name === entry.cluster)!;
        entry.items.push(await checkArchive(cluster, config.stateDir, opened.storage, signal ?? new AbortController().signal));
      }
    } finally {
      opened.close();
    }
  }
  const ok = clusters.every((c) => c.items.every((i) => i.ok)) && repository.every((i) => i.ok);
  return { ok, clusters, repository };
}
