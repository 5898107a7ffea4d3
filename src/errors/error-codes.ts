// The error catalog: every failure Lifeboat reports has a stable code here, and the code doubles as the exit code.
// Codes are append-only: scripts and CI pipelines match on them, so never renumber one.

/** Stable error codes and their process exit codes. Exit 1 is reserved for "not found" in `wal fetch`. */
export const ERROR_CODES = {
  /** A command-line argument is missing or malformed. */
  usage: 64,
  /** The configuration file is missing, unreadable or invalid. */
  config: 65,
  /** A secret reference (env var or file) could not be resolved. */
  secret: 66,
  /** The repository (fs folder or S3 bucket) cannot be reached or refused the request. */
  storageUnavailable: 70,
  /** A requested object does not exist in the repository. */
  objectNotFound: 71,
  /** A create-only write found an object already at that key. */
  objectExists: 72,
  /** An object's bytes do not match its recorded checksum, or failed authentication. */
  objectCorrupted: 73,
  /** An object ends early: fewer bytes than its header or manifest promises. */
  objectTruncated: 74,
  /** The configured key cannot decrypt the object (wrong key or wrong key id). */
  wrongKey: 75,
  /** The key service (AWS KMS) cannot be reached or refused the request. */
  kmsUnavailable: 76,
  /** The local key file is missing, malformed or has unsafe permissions. */
  keyFile: 77,
  /** Redis (the daemons' queues, schedules and locks) cannot be reached or refused the request. */
  redisUnavailable: 79,
  /** PostgreSQL cannot be reached or refused the connection. */
  postgresUnavailable: 80,
  /** PostgreSQL is reachable but not configured the way Lifeboat needs. */
  postgresConfig: 81,
  /** A PostgreSQL client program (pg_basebackup, pg_receivewal, psql) is missing or failed. */
  postgresTool: 82,
  /** The operation was aborted (signal or shutdown). */
  aborted: 90,
  /** Another live process holds the lock this command needs (same state folder, same cluster job). */
  locked: 91,
  /** A bug: an invariant Lifeboat relies on did not hold. */
  internal: 99,
  /**
   * A restore drill ran and one of its targets or checks failed (the report names which). Exit 1, as CI systems
   * read test failures; a drill that could not run exits with the error's own code instead.
   */
  drillFailed: 1,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;
