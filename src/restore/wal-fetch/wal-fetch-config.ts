// What `wal fetch` needs to reach the WAL of one cluster: the repository, the key, and optionally the folder
// a running restore prefetches into. A restore's fetch config is one; the normal config file gives another.
import type { RuntimeConfig } from '../../config/index.js';
import { storageConfigFrom, type StorageConfig } from '../../storage/index.js';
import type { RestoreFetchConfig } from '../restore-fetch-config.js';
import type { PlannedWalRange } from './planned-wal.js';

/** The fetch settings; every restore fetch config ({@link RestoreFetchConfig}) is one. Secrets are resolved. */
export interface WalFetchConfig {
  cluster: string;
  repository: StorageConfig;
  encryption: RestoreFetchConfig['encryption'];
  /** Folder served from before the repository (files are moved out of it). Default: none. */
  prefetchDir?: string | undefined;
  /** Segments a restore planned: one of them missing from the repository is a failure, not "not found". Default: none. */
  plannedWal?: readonly PlannedWalRange[] | undefined;
}

/** The fetch settings of the normal config file for `cluster` (no prefetch folder). */
export function walFetchConfigFrom(config: RuntimeConfig, cluster: string): WalFetchConfig {
  const { encryption } = config;
  const credentials = encryption.provider === 'aws-kms' ? encryption.credentials : undefined;
  return {
    cluster,
    repository: storageConfigFrom(config.repository),
    encryption:
      encryption.provider === 'local'
        ? { provider: 'local', keyFile: encryption.keyFile }
        : {
            provider: 'aws-kms',
            keyId: encryption.keyId,
            region: encryption.region,
            ...(encryption.endpoint === undefined ? {} : { endpoint: encryption.endpoint }),
            ...(credentials === undefined
              ? {}
              : {
                  credentials: {
                    accessKeyId: credentials.accessKeyId.reveal(),
                    secretAccessKey: credentials.secretAccessKey.reveal(),
                    ...(credentials.sessionToken === undefined ? {} : { sessionToken: credentials.sessionToken.reveal() }),
                  },
                }),
          },
  };
}
