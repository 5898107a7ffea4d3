// The drill heartbeat: its table, writing one row (with pruning), and reading back what a drill measures RPO by,
// with the commit-timestamp fallback when the heartbeat is off.
export { HEARTBEAT_RELATION, ensureHeartbeatTable, heartbeatTableExists, heartbeatPrivilegeError } from './heartbeat-table.js';
export type { Heartbeat } from './heartbeat.js';
export { HEARTBEAT_RETENTION_SECONDS, writeHeartbeat, type WriteHeartbeatOptions, type WrittenHeartbeat } from './write-heartbeat.js';
export { readNewestHeartbeat, countHeartbeatsAfter, type HeartbeatInstant } from './read-heartbeat.js';
export { readNewestCommitTime, type CommitTimeReading } from './read-newest-commit-time.js';
