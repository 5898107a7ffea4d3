// Who "this host and state folder" is, so that what a process records in the repository (the owner of an
// in-progress backup) can later be recognised as its own: a random id kept in the state folder, plus the host's
// machine id. A copied state folder on another machine (a cloned VM) keeps the id but not the machine id.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, realpathSync, linkSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { LifeboatError, describeError } from '../errors/index.js';

export interface StateIdentity {
  /** Random id of the state folder, created on first use (file `state-id`). */
  stateId: string;
  /** The state folder's real path (for messages; identity rests on stateId + hostId). */
  stateDir: string;
  /** `/etc/machine-id` when readable, else the host name. */
  hostId: string;
  /** The host name, for messages. */
  hostname: string;
}

const STATE_ID_FILE = 'state-id';
const STATE_ID_PATTERN = /^[0-9a-f-]{36}$/;

function readMachineId(): string | undefined {
  for (const path of ['/etc/machine-id', '/var/lib/dbus/machine-id']) {
    try {
      const id = readFileSync(path, 'utf8').trim();
      if (id !== '') return id;
    } catch {
      // Not on this system (macOS, minimal containers): try the next one.
    }
  }
  return undefined;
}

/** Read (or create, atomically: two processes racing agree on one id) the identity of `stateDir`. */
export function loadStateIdentity(stateDir: string): StateIdentity {
  const path = join(stateDir, STATE_ID_FILE);
  try {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    let stateId: string;
    try {
      stateId = readFileSync(path, 'utf8').trim();
    } catch {
      // Written to a temp name and linked into place: link fails if a racer got there first, never half-written.
      const temp = `${path}.${process.pid}.${randomUUID()}`;
      writeFileSync(temp, `${randomUUID()}\n`, { mode: 0o600 });
      try {
        linkSync(temp, path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        unlinkSync(temp);
      }
      stateId = readFileSync(path, 'utf8').trim();
    }
    if (!STATE_ID_PATTERN.test(stateId)) {
      throw new LifeboatError('config', `${path} does not hold a state folder id`, { hint: `remove ${path}; lifeboat creates a new one` });
    }
    const name = hostname();
    return { stateId, stateDir: realpathSync(stateDir), hostId: readMachineId() ?? name, hostname: name };
  } catch (error) {
    if (error instanceof LifeboatError) throw error;
    throw new LifeboatError('config', `cannot use the state folder ${stateDir}: ${describeError(error)}`, {
      hint: 'stateDir must be a local folder this user can write',
      cause: error,
    });
  }
}
