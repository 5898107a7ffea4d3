// The identity of each cluster in the repository (system identifier, major version, WAL segment size),
// recorded by the first backup or archiver and enforced after: a different cluster under the same name
// would otherwise mix two histories of WAL into one chain.
import { z } from 'zod';
import { LifeboatError, isLifeboatError } from '../errors/index.js';
import { clusterInfoKey, loadJson, storeJson, type Storage } from '../storage/index.js';

export const clusterIdentitySchema = z.strictObject({
  formatVersion: z.literal(1),
  cluster: z.string(),
  systemIdentifier: z.string().regex(/^\d+$/),
  postgresMajorVersion: z.number().int(),
  walSegmentSizeBytes: z.number().int().positive(),
  createdTime: z.iso.datetime({ offset: true }),
});

export type ClusterIdentity = z.infer<typeof clusterIdentitySchema>;

export async function loadClusterIdentity(storage: Storage, cluster: string, signal?: AbortSignal): Promise<ClusterIdentity | undefined> {
  try {
    return await loadJson(storage, clusterInfoKey(cluster), clusterIdentitySchema, { signal });
  } catch (error) {
    if (isLifeboatError(error, 'objectNotFound')) return undefined;
    throw error;
  }
}

/**
 * Record `observed` as the cluster's identity on first use, or check it against the recorded one.
 * Throws postgresConfig naming both system identifiers when they differ.
 */
export async function ensureClusterIdentity(
  storage: Storage,
  observed: Omit<ClusterIdentity, 'formatVersion' | 'createdTime'>,
  now: Date,
  signal?: AbortSignal,
): Promise<ClusterIdentity> {
  let recorded = await loadClusterIdentity(storage, observed.cluster, signal);
  if (!recorded) {
    const identity: ClusterIdentity = { formatVersion: 1, ...observed, createdTime: now.toISOString() };
    try {
      await storeJson(storage, clusterInfoKey(observed.cluster), identity, { createOnly: true, signal });
      return identity;
    } catch (error) {
      // Another process recorded it first; check against theirs.
      if (!isLifeboatError(error, 'objectExists')) throw error;
      recorded = await loadClusterIdentity(storage, observed.cluster, signal);
      if (!recorded) throw error;
    }
  }
  if (recorded.systemIdentifier !== observed.systemIdentifier) {
    throw new LifeboatError(
      'postgresConfig',
      `cluster "${observed.cluster}" in the repository is system ${recorded.systemIdentifier}, but the server is system ${observed.systemIdentifier}`,
      { hint: 'this is a different PostgreSQL cluster: give it its own cluster name in the config (never reuse a name)' },
    );
  }
  if (recorded.postgresMajorVersion !== observed.postgresMajorVersion || recorded.walSegmentSizeBytes !== observed.walSegmentSizeBytes) {
    throw new LifeboatError(
      'postgresConfig',
      `cluster "${observed.cluster}" was recorded as PostgreSQL ${recorded.postgresMajorVersion} with ${recorded.walSegmentSizeBytes}-byte WAL segments; the server is ${observed.postgresMajorVersion} with ${observed.walSegmentSizeBytes}`,
      { hint: 'after a major upgrade, back the cluster up under a new cluster name' },
    );
  }
  return recorded;
}
