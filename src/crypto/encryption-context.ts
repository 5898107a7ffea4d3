// The encryption context Lifeboat binds to every object: the cluster, object family and backup it belongs to.
// The ESDK authenticates it with the object and KMS binds the data key to it, so an object copied into another
// backup's place, or a data key presented with another context, fails to decrypt.
import { LifeboatError } from '../errors/index.js';

/** Which kind of repository object a session encrypts. */
export type ObjectFamily = 'base' | 'wal' | 'meta';

/** The owner of a set of objects; one encryption session (one data key) per scope. */
export interface EncryptionScope {
  /** The configured cluster name. */
  cluster: string;
  family: ObjectFamily;
  /** The backup id (base, meta); for WAL, the archiver's session id. Optional for repository-wide metadata. */
  backupId?: string;
}

/** An encryption context: string pairs, authenticated but not secret (stored in clear in every object header). */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Every context key Lifeboat writes starts with this; the ESDK reserves `aws-crypto-`. */
export const CONTEXT_PREFIX = 'lifeboat:';

/** The context keys of a scope. */
export const SCOPE_CONTEXT_KEYS = {
  cluster: 'lifeboat:cluster',
  family: 'lifeboat:family',
  backupId: 'lifeboat:backup',
} as const;

/** The context of `scope` (a partial scope gives a partial context, for checking on read). */
export function formatEncryptionContext(scope: Partial<EncryptionScope>): Record<string, string> {
  const context: Record<string, string> = {};
  for (const [field, key] of Object.entries(SCOPE_CONTEXT_KEYS)) {
    const value = scope[field as keyof EncryptionScope];
    if (value !== undefined) context[key] = value;
  }
  return context;
}

/**
 * Checks per-object context entries (e.g. `lifeboat:compression`) before they are added to a session's context:
 * they must use the Lifeboat prefix and not override a scope key. Throws LifeboatError `internal` otherwise.
 */
export function assertObjectContext(objectContext: EncryptionContext): void {
  const scopeKeys: readonly string[] = Object.values(SCOPE_CONTEXT_KEYS);
  for (const key of Object.keys(objectContext)) {
    if (!key.startsWith(CONTEXT_PREFIX) || scopeKeys.includes(key)) {
      throw new LifeboatError('internal', `invalid per-object encryption context key "${key}"`, {
        hint: `per-object keys must start with "${CONTEXT_PREFIX}" and not repeat a scope key; this is a bug in lifeboat`,
      });
    }
  }
}

/** The first expected entry that `actual` lacks or contradicts, or undefined when all match. */
export function findContextMismatch(
  actual: EncryptionContext,
  expected: EncryptionContext,
): { key: string; expected: string; actual: string | undefined } | undefined {
  for (const [key, value] of Object.entries(expected)) {
    if (actual[key] !== value) return { key, expected: value, actual: actual[key] };
  }
  return undefined;
}

/** A canonical string for a context (sorted keys), for cache keys. */
export function canonicalContext(context: EncryptionContext): string {
  return JSON.stringify(Object.keys(context).sort().map((key) => [key, context[key]]));
}
