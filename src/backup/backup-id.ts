// Backup ids: sortable UTC timestamps with a type letter, e.g. 20261129T134512Z-F (full) or -I (increment).
// Sorting ids sorts backups by start time, so listing the repository yields them in order.
import { LifeboatError } from '../errors/index.js';

declare const backupIdBrand: unique symbol;
export type BackupId = string & { readonly [backupIdBrand]: true };
export type BackupType = 'full' | 'incremental';

const ID_PATTERN = /^(\d{8}T\d{6}Z)-(F|I)$/;

export function createBackupId(type: BackupType, at: Date): BackupId {
  const stamp = at.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  return `${stamp}-${type === 'full' ? 'F' : 'I'}` as BackupId;
}

export function isBackupId(text: string): text is BackupId {
  return ID_PATTERN.test(text);
}

export function parseBackupId(text: string): BackupId {
  if (!isBackupId(text)) {
    throw new LifeboatError('usage', `"${text}" is not a backup id`, { hint: 'backup ids look like 20261129T134512Z-F; `lifeboat backups list` shows them' });
  }
  return text;
}

export function backupTypeOf(id: BackupId): BackupType {
  return id.endsWith('-F') ? 'full' : 'incremental';
}
