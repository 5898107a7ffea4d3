// The postgres capability: finding client programs, connecting, reading server facts, running tools safely.
export { findPgTool, type PgTool } from './pg-binaries.js';
export { createPgPassFile, type PgPassFile } from './pgpass-file.js';
export { createLibpqEnv } from './libpq-env.js';
export { connectPostgres, mapConnectError, type ConnectOptions, type PgClient } from './connect-postgres.js';
export { readServerInfo, formatServerVersion, type ServerInfo } from './read-server-info.js';
export { startPgTool, runPgTool, type PgToolProcess } from './run-pg-tool.js';
export { parseLsn, formatLsn, compareLsn, lsnDiffBytes, lsnFromBigInt, type Lsn } from './lsn.js';
export {
  DEFAULT_WAL_SEGMENT_SIZE,
  isWalSegmentName,
  parseWalSegmentName,
  parseWalSegment,
  walSegmentName,
  walSegmentOf,
  segmentNumberOf,
  segmentStartLsn,
  nextWalSegment,
  timelineHistoryFileName,
  toTimelineId,
  type WalSegmentName,
  type TimelineId,
} from './wal-segment.js';
export {
  readSlot,
  ensurePhysicalSlot,
  advanceSlot,
  dropSlot,
  slotInUseError,
  readSlotRetention,
  terminateSlotHolder,
  currentWalLsn,
  oldestServerSegment,
  type SlotState,
} from './replication-slots.js';
export {
  REQUIRED_PRIVILEGES,
  HEARTBEAT_PRIVILEGE,
  HEARTBEAT_SCHEMA,
  HEARTBEAT_TABLE,
  privilegesFor,
  isOptionalCheckPrivilege,
  findMissingPrivileges,
  missingPrivilegesError,
  requirePrivileges,
  quoteRole,
  type RequiredPrivilege,
  type ServerCommand,
} from './required-privileges.js';
export { parseTimelineHistory, timelinePath, type TimelineSwitch } from './timeline-history.js';
export { readServerTimelineHistory } from './read-server-timeline-history.js';
