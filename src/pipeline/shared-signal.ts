// One operation's AbortSignal (a backup, a verify, a restore) is shared by every object it reads or writes, several
// at once, and each object's stages listen on it (pipeline, decryption, compression); every listener goes when
// its stream closes. Node warns past 10 listeners to catch leaks, which concurrent objects pass legitimately.
import { getMaxListeners, setMaxListeners } from 'node:events';

/** Listeners a shared operation signal may hold before Node warns: far above any real concurrency. */
const SHARED_SIGNAL_MAX_LISTENERS = 1000;

/** Raise `signal`'s listener warning threshold for sharing across concurrent objects (never lowers it). */
export function allowSharedSignal(signal: AbortSignal | undefined): void {
  if (signal !== undefined && getMaxListeners(signal) < SHARED_SIGNAL_MAX_LISTENERS) setMaxListeners(SHARED_SIGNAL_MAX_LISTENERS, signal);
}
