// Every object key Lifeboat reads or writes is built here, one function per kind of object, so the whole
// repository layout can be read in one file and changed in one place. Pure: names in, keys out; each
// function validates its inputs so no caller can build a key that escapes its cluster's folder.
//
//   lifeboat.json                                                  repository format version
//   keys.json                                                      the key(s) its objects are encrypted for (ids only)
//   probes/<nonce>.probe                                           connectivity checks, deleted right after
//   clusters/<cluster>/cluster.json                                cluster identity (system id, pg version)
//   clusters/<cluster>/backups/<backupId>/in-progress.json         written first: which host and state folder own it
//   clusters/<cluster>/backups/<backupId>/manifest.json            written last: a backup exists once it does
//   clusters/<cluster>/backups/<backupId>/base/part-00001.tar.zst.enc
//   clusters/<cluster>/wal/<timeline>/<segment>-<sha256>           archived WAL segment
//   clusters/<cluster>/wal/<timeline>/<segment>.partial-<endLsn>   last, unfinished segment of a timeline
//   clusters/<cluster>/wal/<timeline>/<timeline>.history           timeline history file
//   clusters/<cluster>/restore-points/<name>.json                  named restore point (LSN, time, timeline)
//   clusters/<cluster>/drills/<drillId>.json.enc                   a restore drill's result (encrypted JSON)
import { LifeboatError } from '../errors/index.js';

/** Cluster names: 1-63 of `a-z 0-9 _ -`, starting with a letter or digit (the config schema uses the same). */
export const CLUSTER_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Backup ids: 1-128 of `A-Z a-z 0-9 _ -`, starting with a letter or digit, e.g. `20250101T000000Z`. */
export const BACKUP_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
/** WAL segment file names: timeline, log and segment number, 8 upper-case hex digits each. */
export const WAL_SEGMENT_NAME_PATTERN = /^[0-9A-F]{24}$/;
/** Hex SHA-256 digests, lower case as `sha256sum` prints them. */
export const SHA256_HEX_PATTERN = /^[0-9a-f]{64}$/;
/** An LSN as one 64-bit number in 16 upper-case hex digits (`0/16B3748` is `00000000016B3748`). */
export const LSN_HEX_PATTERN = /^[0-9A-F]{16}$/;
/** Probe nonces: 1-64 of `a-z 0-9 -`. */
const PROBE_NONCE_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Base backup parts are numbered from 1 and zero-padded to 5 digits so they list in order. */
export const MAX_BACKUP_PART_NUMBER = 99_999;
/** Timelines are unsigned 32-bit, starting at 1. */
const MAX_TIMELINE = 0xffff_ffff;

function check(value: string, pattern: RegExp, what: string, rule: string): void {
  if (!pattern.test(value)) {
    throw new LifeboatError('usage', `invalid ${what} "${value}"`, { hint: `${what}s are ${rule}` });
  }
}

function clusterFolder(cluster: string): string {
  check(cluster, CLUSTER_NAME_PATTERN, 'cluster name', '1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit');
  return `${clustersPrefix()}${cluster}/`;
}

function backupFolder(cluster: string, backupId: string): string {
  check(backupId, BACKUP_ID_PATTERN, 'backup id', '1-128 characters of A-Z, a-z, 0-9, "_" and "-", starting with a letter or digit');
  return `${clusterFolder(cluster)}backups/${backupId}/`;
}

function checkSegmentName(segmentName: string): void {
  check(segmentName, WAL_SEGMENT_NAME_PATTERN, 'WAL segment name', '24 upper-case hex digits, e.g. 000000010000000000000001');
}

/** A timeline id as PostgreSQL writes it in file names: 8 upper-case hex digits. */
export function formatTimeline(timeline: number): string {
  if (!Number.isInteger(timeline) || timeline < 1 || timeline > MAX_TIMELINE) {
    throw new LifeboatError('usage', `invalid timeline ${timeline}`, { hint: 'timelines are integers from 1 to 4294967295' });
  }
  return timeline.toString(16).toUpperCase().padStart(8, '0');
}

/** `lifeboat.json`: the repository's format version, written once when the repository is initialised. */
export function repositoryInfoKey(): string {
  return 'lifeboat.json';
}

/**
 * `keys.json`: the identity of the key(s) the repository's objects are encrypted for (local key id, KMS key
 * ARN), written create-only when the repository is initialised. Plain JSON without secrets, so any reader with
 * the bucket or folder alone can tell which key is expected.
 */
export function repositoryKeysKey(): string {
  return 'keys.json';
}

/**
 * True for the repository's own bookkeeping (lifeboat.json, keys.json, probes/): objects that hold no backed-up
 * data, so a repository holding only these is still empty.
 */
export function isRepositoryBookkeepingKey(key: string): boolean {
  return key === repositoryInfoKey() || key === repositoryKeysKey() || key.startsWith('probes/');
}

const BACKUP_PART_KEY_PATTERN = /^clusters\/[a-z0-9][a-z0-9_-]{0,62}\/backups\/[A-Za-z0-9][A-Za-z0-9_-]{0,127}\/base\/part-\d{5}\.tar\.zst\.enc$/;

/**
 * True for keys of objects stored encrypted: base backup parts, WAL objects (segments, partials, histories) and
 * drill results.
 */
export function isEncryptedObjectKey(key: string): boolean {
  return BACKUP_PART_KEY_PATTERN.test(key) || parseWalKey(key) !== undefined || parseDrillResultKey(key) !== undefined;
}

/**
 * `probes/<nonce>.probe`: a throwaway object written, read and deleted to check the repository is reachable
 * and writable. `nonce` (1-64 of `a-z 0-9 -`) keeps concurrent probes from different hosts apart.
 */
export function probeKey(nonce = 'check'): string {
  check(nonce, PROBE_NONCE_PATTERN, 'probe nonce', '1-64 characters of a-z, 0-9 and "-"');
  return `probes/${nonce}.probe`;
}

/** `clusters/`: every cluster's folder; list it to find the clusters a repository holds. */
export function clustersPrefix(): string {
  return 'clusters/';
}

const CLUSTER_KEY_PATTERN = /^clusters\/([a-z0-9][a-z0-9_-]{0,62})\//;

/** The cluster whose folder holds `key` (any key under `clusters/<cluster>/`); undefined for any other key. */
export function clusterOfKey(key: string): string | undefined {
  return CLUSTER_KEY_PATTERN.exec(key)?.[1];
}

/** `clusters/<cluster>/`: everything stored for one cluster. */
export function clusterPrefix(cluster: string): string {
  return clusterFolder(cluster);
}

/** `clusters/<cluster>/cluster.json`: the cluster's identity, checked before every backup and WAL push. */
export function clusterInfoKey(cluster: string): string {
  return `${clusterFolder(cluster)}cluster.json`;
}

/** `clusters/<cluster>/backups/`: list it to find backups (their manifests) of a cluster. */
export function backupsPrefix(cluster: string): string {
  return `${clusterFolder(cluster)}backups/`;
}

/** `clusters/<cluster>/backups/<backupId>/`: every object of one backup. */
export function backupPrefix(cluster: string, backupId: string): string {
  return backupFolder(cluster, backupId);
}

/** `.../backups/<backupId>/manifest.json`: written last, deleted first; its presence is what makes a backup. */
export function backupManifestKey(cluster: string, backupId: string): string {
  return `${backupFolder(cluster, backupId)}manifest.json`;
}

/**
 * `.../backups/<backupId>/in-progress.json`: written before a backup's first part, naming the host and state
 * folder that own it, so that whoever finds the folder without a manifest can tell whether its owner is provably
 * dead. Removed once the manifest is written.
 */
export function backupInProgressKey(cluster: string, backupId: string): string {
  return `${backupFolder(cluster, backupId)}in-progress.json`;
}

/** `.../backups/<backupId>/base/part-00001.tar.zst.enc`: part `partNumber` (1-99 999) of the base backup. */
export function backupPartKey(cluster: string, backupId: string, partNumber: number): string {
  if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_BACKUP_PART_NUMBER) {
    throw new LifeboatError('usage', `invalid backup part number ${partNumber}`, {
      hint: `part numbers are integers from 1 to ${MAX_BACKUP_PART_NUMBER}; raise the part size for larger backups`,
    });
  }
  return `${backupFolder(cluster, backupId)}base/part-${String(partNumber).padStart(5, '0')}.tar.zst.enc`;
}

/** `clusters/<cluster>/wal/`: all archived WAL of a cluster, one folder per timeline. */
export function walRootPrefix(cluster: string): string {
  return `${clusterFolder(cluster)}wal/`;
}

/** `clusters/<cluster>/wal/<timeline as 8 hex digits>/`: segments, partials and history of one timeline. */
export function walPrefix(cluster: string, timeline: number): string {
  return `${walRootPrefix(cluster)}${formatTimeline(timeline)}/`;
}

/**
 * `clusters/<cluster>/wal/<timeline>/<segment>-<sha256>`: an archived segment. The checksum is in the name so
 * a re-push of the same bytes finds its twin, and a different one with the same name is caught, not replaced.
 */
export function walSegmentKey(cluster: string, segmentName: string, sha256: string): string {
  checkSegmentName(segmentName);
  check(sha256, SHA256_HEX_PATTERN, 'SHA-256 digest', '64 lower-case hex digits');
  return `${walRootPrefix(cluster)}${segmentName.slice(0, 8)}/${segmentName}-${sha256}`;
}

/**
 * `clusters/<cluster>/wal/<timeline>/<segment>.partial-<endLsnHex>`: the unfinished tail segment streamed
 * up to `endLsnHex` (16 upper-case hex digits). Lists right after the finished segment of the same name.
 */
export function walPartialKey(cluster: string, segmentName: string, endLsnHex: string): string {
  checkSegmentName(segmentName);
  check(endLsnHex, LSN_HEX_PATTERN, 'LSN', '16 upper-case hex digits (the 64-bit LSN)');
  return `${walRootPrefix(cluster)}${segmentName.slice(0, 8)}/${segmentName}.partial-${endLsnHex}`;
}

/** `clusters/<cluster>/wal/<timeline>/<timeline>.history`: PostgreSQL's history file for `timeline` (2 and up). */
export function walHistoryKey(cluster: string, timeline: number): string {
  const hex = formatTimeline(timeline);
  return `${walRootPrefix(cluster)}${hex}/${hex}.history`;
}

/** A WAL object key taken apart again; undefined for anything that is not one. */
export type ParsedWalKey =
  | { kind: 'segment'; timeline: number; segmentName: string; sha256: string }
  | { kind: 'partial'; timeline: number; segmentName: string; endLsnHex: string }
  | { kind: 'history'; timeline: number };

const WAL_KEY_PATTERN =
  /^clusters\/[a-z0-9][a-z0-9_-]{0,62}\/wal\/([0-9A-F]{8})\/(?:(\1[0-9A-F]{16})-([0-9a-f]{64})|(\1[0-9A-F]{16})\.partial-([0-9A-F]{16})|\1\.history)$/;

/** Parses a key built by walSegmentKey, walPartialKey or walHistoryKey (e.g. from a listing of walPrefix). */
export function parseWalKey(key: string): ParsedWalKey | undefined {
  const match = WAL_KEY_PATTERN.exec(key);
  if (match === null) return undefined;
  const [, timelineHex = '', segmentName, sha256, partialName, endLsnHex] = match;
  const timeline = Number.parseInt(timelineHex, 16);
  if (segmentName !== undefined && sha256 !== undefined) return { kind: 'segment', timeline, segmentName, sha256 };
  if (partialName !== undefined && endLsnHex !== undefined) return { kind: 'partial', timeline, segmentName: partialName, endLsnHex };
  return { kind: 'history', timeline };
}

/** Restore point names: what pg_create_restore_point accepts that is also safe in a key (1-63 chars). */
export const RESTORE_POINT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

/** `clusters/<cluster>/restore-points/`: list it to find the named restore points of a cluster. */
export function restorePointsPrefix(cluster: string): string {
  return `${clusterFolder(cluster)}restore-points/`;
}

/** `clusters/<cluster>/restore-points/<name>.json`: where `lifeboat restore-point NAME` records its point. */
export function restorePointKey(cluster: string, name: string): string {
  check(name, RESTORE_POINT_NAME_PATTERN, 'restore point name', '1-63 characters of A-Z, a-z, 0-9, "_", "." and "-", starting with a letter or digit');
  return `${restorePointsPrefix(cluster)}${name}.json`;
}

/**
 * Drill ids: `drill-<cluster>-<UTC start as YYYYMMDDTHHMMSSZ>`, e.g. `drill-main-20261129T134512Z`. The fixed-width
 * time at the end makes key order time order, so the newest drill of a cluster is its last key.
 */
export const DRILL_ID_PATTERN = /^drill-([a-z0-9][a-z0-9_-]{0,62})-(\d{8}T\d{6}Z)$/;

/** `clusters/<cluster>/drills/`: list it to find the stored drill results of a cluster, oldest first. */
export function drillsPrefix(cluster: string): string {
  return `${clusterFolder(cluster)}drills/`;
}

/**
 * `clusters/<cluster>/drills/<drillId>.json.enc`: the result of one restore drill, encrypted like the data it
 * speaks about (it names tables, hosts and findings). `drillId` must be one of `cluster`'s (see DRILL_ID_PATTERN).
 */
export function drillResultKey(cluster: string, drillId: string): string {
  const prefix = drillsPrefix(cluster);
  check(drillId, DRILL_ID_PATTERN, 'drill id', 'drill-<cluster>-<UTC time as YYYYMMDDTHHMMSSZ>, e.g. drill-main-20261129T134512Z');
  if (DRILL_ID_PATTERN.exec(drillId)?.[1] !== cluster) {
    throw new LifeboatError('usage', `drill id "${drillId}" is not one of cluster "${cluster}"`, {
      hint: `drill ids of cluster ${cluster} start with "drill-${cluster}-"`,
    });
  }
  return `${prefix}${drillId}.json.enc`;
}

const DRILL_RESULT_KEY_PATTERN = /^clusters\/([a-z0-9][a-z0-9_-]{0,62})\/drills\/(drill-\1-\d{8}T\d{6}Z)\.json\.enc$/;

/** Parses a key built by drillResultKey (e.g. from a listing of drillsPrefix); undefined for anything else. */
export function parseDrillResultKey(key: string): { cluster: string; drillId: string } | undefined {
  const match = DRILL_RESULT_KEY_PATTERN.exec(key);
  if (match === null) return undefined;
  const [, cluster = '', drillId = ''] = match;
  return { cluster, drillId };
}
