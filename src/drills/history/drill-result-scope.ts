// The encryption scope of a stored drill result: its cluster, the metadata family and its drill id (in the
// scope's backup slot). Bound into the object's authenticated context, so a result copied under another drill's
// or cluster's key fails to decrypt instead of being reported as that drill.
import type { EncryptionScope } from '../../crypto/index.js';

export function drillResultScope(cluster: string, drillId: string): EncryptionScope {
  return { cluster, family: 'meta', backupId: drillId };
}
