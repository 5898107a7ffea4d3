// Reads, and for an empty repository creates, the key file of the local key provider: 32 random bytes as hex or base64 text.
// It is the only key that opens the repository's objects, so it is refused unless private to its owner, and it
// is created exclusively (never overwriting a key that objects may already depend on) and fsynced.
import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LifeboatError } from '../errors/index.js';
import { registerSecret } from '../log/index.js';

/** Options for {@link loadLocalKeyFile}. */
export interface LocalKeyFileOptions {
  /** Path of the key file. */
  path: string;
  /** Create the file (mode 0600, random key) when it does not exist. Default false: a missing key is an error. */
  createIfMissing?: boolean;
}

/** Key length: AES-256. */
export const LOCAL_KEY_BYTES = 32;

/** Key files are small text files; anything larger is not one. */
const MAX_KEY_FILE_BYTES = 1024;

function createHint(path: string): string {
  return `for a new, empty repository run \`lifeboat repository init\` (or create one with: (umask 077; openssl rand -hex 32 > ${path}))`;
}

function keyFileError(message: string, hint: string, cause?: unknown): LifeboatError {
  return new LifeboatError('keyFile', message, { hint, cause });
}

function errnoCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}

/** The key id of `key`: 16 hex digits of a domain-separated SHA-256, safe to print and store. */
export function formatLocalKeyId(key: Uint8Array): string {
  return createHash('sha256').update('lifeboat local key id\0').update(key).digest('hex').slice(0, 16);
}

function malformedKeyError(path: string): LifeboatError {
  return keyFileError(`key file ${path} does not hold a 256-bit key`, (
    'it must contain exactly 64 hex digits or 44 base64 characters (32 random bytes); restore the original file ' +
    `from your key backup, or ${createHint(path)}`
  ));
}

/** The key in a key file's text: 64 hex digits, or base64 (standard or URL-safe) of 32 bytes. */
export function parseLocalKey(text: string, path: string): Buffer {
  const trimmed = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) key = Buffer.from(trimmed, 'hex');
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) key = Buffer.from(trimmed, 'base64');
  if (key?.length !== LOCAL_KEY_BYTES) throw malformedKeyError(path);
  return key;
}

/** Writes a new random key with O_EXCL; resolves false when another process created the file first. */
async function createKeyFile(path: string): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  let handle: FileHandle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw keyFileError(`key file ${path} cannot be created: ${(error as Error).message}`, (
      'check that the folder exists and is writable by the lifeboat user, or create the key file yourself: ' + createHint(path)
    ), error);
  }
  try {
    await handle.writeFile(`${randomBytes(LOCAL_KEY_BYTES).toString('hex')}\n`);
    // Losing a freshly created key after a crash would leave objects nobody can decrypt.
    await handle.sync();
  } finally {
    await handle.close();
  }
  const folder = await open(dirname(path), fsConstants.O_RDONLY);
  try {
    await folder.sync();
  } finally {
    await folder.close();
  }
  return true;
}

async function openKeyFile(path: string): Promise<FileHandle | undefined> {
  try {
    return await open(path, fsConstants.O_RDONLY);
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return undefined;
    throw keyFileError(`key file ${path} cannot be read: ${(error as Error).message}`, (
      'run lifeboat as the user that owns the key file, or fix its ownership (it must stay mode 0600)'
    ), error);
  }
}

/**
 * Load the 32-byte key from `options.path`, creating it first when missing and `createIfMissing` is set.
 * Throws LifeboatError `keyFile` when the file is missing, unreadable, not a regular file, readable by group or
 * others, or does not hold a 256-bit key. The key is registered as a secret so logs never show it.
 */
export async function loadLocalKeyFile(options: LocalKeyFileOptions): Promise<Buffer> {
  const { path } = options;
  let handle = await openKeyFile(path);
  if (handle === undefined && options.createIfMissing === true) {
    await createKeyFile(path);
    handle = await openKeyFile(path);
  }
  if (handle === undefined) {
    throw keyFileError(`key file ${path} does not exist`, (
      'restore it from your key backup: objects written with it cannot be read without it; ' + createHint(path)
    ));
  }
  try {
    // fstat on the open file, not stat on the path: what is checked is what is read.
    const info = await handle.stat();
    if (!info.isFile()) throw keyFileError(`key file ${path} is not a regular file`, `point the key provider at the key file itself; ${createHint(path)}`);
    if ((info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      throw keyFileError(`key file ${path} is readable by group or others (mode ${mode})`, (
        `restrict it to its owner: chmod 600 ${path} (on Kubernetes set the secret's defaultMode to 0400)`
      ));
    }
    if (info.size > MAX_KEY_FILE_BYTES) throw malformedKeyError(path);
    const text = await handle.readFile({ encoding: 'utf8' });
    registerSecret(text.trim());
    const key = parseLocalKey(text, path);
    registerSecret(key.toString('hex'));
    return key;
  } finally {
    await handle.close();
  }
}
