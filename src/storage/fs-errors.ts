// Turns Node file-system errors from the fs driver into LifeboatErrors with a hint an operator can act on
// (full disk, permissions, read-only mount). Errors that are not file-system errors, such as the caller's
// body stream failing, pass through untouched so the caller sees its own error.
import { LifeboatError } from '../errors/index.js';

/** The errno code (`ENOENT`, `EEXIST`, ...) of a Node system error, or undefined for any other value. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string' && 'syscall' in error) {
    return error.code;
  }
  return undefined;
}

function hintFor(code: string, root: string): string {
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `free space on the file system holding ${root}, or run retention to expire old backups`;
    case 'EACCES':
    case 'EPERM':
      return `make ${root} readable and writable by the user lifeboat runs as`;
    case 'EROFS':
      return `${root} is on a read-only file system; remount it read-write or point repository.path elsewhere`;
    case 'ENOENT':
      return `create the folder ${root} (lifeboat does not create the repository root) or fix repository.path`;
    default:
      return `check that ${root} is mounted and healthy`;
  }
}

/**
 * `storageUnavailable` for a file-system error met while doing `action` (e.g. `write "clusters/x/cluster.json"`)
 * in the repository at `root`. Returns `error` itself when it is not a file-system error.
 */
export function fsError(error: unknown, action: string, root: string): unknown {
  const code = errnoCode(error);
  if (code === undefined) return error;
  return new LifeboatError('storageUnavailable', `cannot ${action} in ${root}: ${code}`, {
    hint: hintFor(code, root),
    cause: error,
  });
}

/** `storageUnavailable`: the repository root folder itself is missing or not a folder. */
export function missingRootError(root: string, cause?: unknown): LifeboatError {
  return new LifeboatError('storageUnavailable', `repository folder ${root} does not exist or is not a folder`, {
    hint: hintFor('ENOENT', root),
    cause,
  });
}
