// The prefetch folder's byte budget and what replay has taken from it. Downloads reserve room before they start
// and a file's bytes are freed when restore_command moves it out (seen through inotify, and a poll), so the
// folder never holds more than the window. Replay's position, learnt from the files it took and from the names
// restore_command passed to `lifeboat wal fetch` (its log), tells which planned files replay is past: dropped.
import { existsSync, readFileSync, statSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { parseRestoreCommandLog } from './restore-command.js';

/** Options for {@link PrefetchWindow}. */
export interface PrefetchWindowOptions {
  prefetchDir: string;
  /** Bytes the folder may hold at once, downloads in flight included. */
  limitBytes: number;
  /** restore_command's log (see parseRestoreCommandLog). Default: none. */
  commandLogFile?: string | undefined;
  /**
   * Position (see {@link walPosition}) of the segment holding the backup's checkpoint record: replay reads it
   * once before going back to the redo point, so taking it says nothing about the segments before it.
   */
  checkpointPosition?: string | undefined;
  /** How often the folder and the miss log are looked at besides inotify events. Default 100 ms. */
  pollMs?: number;
}

interface HeldFile {
  bytes: number;
  ready: boolean;
  /** Position of a segment; undefined for a history file. */
  position: string | undefined;
}

/** A segment name's place in replay order: its log and segment number (fixed-width hex, so string order works). */
export function walPosition(segmentName: string): string {
  return segmentName.slice(8);
}

const SEGMENT_NAME = /^[0-9A-F]{24}$/;

export class PrefetchWindow {
  readonly limitBytes: number;
  /** Files restore_command moved out of the folder. */
  consumedFiles = 0;
  /** Files removed (or never fetched) because replay was already past them. */
  droppedFiles = 0;
  /** Most bytes held at once. */
  peakHeldBytes = 0;
  private readonly options: PrefetchWindowOptions;
  private readonly held = new Map<string, HeldFile>();
  private heldBytes = 0;
  /** Replay needs no segment before this position (nor at it, when `inclusive`). */
  private passed: { position: string; inclusive: boolean } | undefined;
  private commandLogOffset = 0;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private waiters = new Set<() => void>();

  constructor(options: PrefetchWindowOptions) {
    this.options = options;
    this.limitBytes = options.limitBytes;
  }

  /** Starts watching the folder; call {@link stop} when done. */
  start(): void {
    try {
      this.watcher = watch(this.options.prefetchDir, { persistent: false }, () => this.update());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No inotify (a limit reached, or a file system without it): the poll alone sees the moves, a little later.
    }
    this.timer = setInterval(() => this.update(), this.options.pollMs ?? 100);
  }

  stop(): void {
    this.watcher?.close();
    clearInterval(this.timer);
    this.update();
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** True when `bytes` more fit in the window now. */
  fits(bytes: number): boolean {
    return this.heldBytes + bytes <= this.limitBytes;
  }

  /** Whether replay is past the segment at `position` (it will not ask for it again, barring a crash). */
  isPassed(position: string | undefined): boolean {
    if (position === undefined || this.passed === undefined) return false;
    return position < this.passed.position || (this.passed.inclusive && position === this.passed.position);
  }

  /** Resolves once `ready()` holds (re-checked on every change), or at once when `signal` is aborted. */
  async waitUntil(ready: () => boolean, signal: AbortSignal): Promise<void> {
    while (!ready() && !signal.aborted) {
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.waiters.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        this.waiters.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
  }

  /** Books `bytes` for a download of `name` about to start. */
  reserve(name: string, bytes: number, position: string | undefined): void {
    this.set(name, { bytes, ready: false, position });
  }

  /**
   * `name` is in the folder under its final name with `bytes` (at most what was reserved). Returns false, having
   * removed it, when replay got past it meanwhile.
   */
  placed(name: string, bytes: number, position: string | undefined): boolean {
    this.set(name, { bytes, ready: true, position });
    if (!this.isPassed(position)) return true;
    this.drop(name);
    return false;
  }

  /** A reservation whose download failed: nothing of it is in the folder. */
  cancel(name: string): void {
    this.set(name, undefined);
  }

  /** Reads what replay took and missed, drops what it is past, and wakes whoever waits for room. */
  update(): void {
    for (const [name, file] of this.held) {
      if (!file.ready || existsSync(join(this.options.prefetchDir, name))) continue;
      this.set(name, undefined);
      this.consumedFiles++;
      // Taking a segment means replay is past every earlier one: PostgreSQL asks in order.
      this.advance(file.position, false);
    }
    this.readCommandLog();
    for (const [name, file] of this.held) if (file.ready && this.isPassed(file.position)) this.drop(name);
    for (const wake of [...this.waiters]) wake();
  }

  private readCommandLog(): void {
    const path = this.options.commandLogFile;
    if (path === undefined) return;
    let text: string;
    try {
      if (statSync(path).size <= this.commandLogOffset) return;
      text = readFileSync(path).subarray(this.commandLogOffset).toString('latin1');
    } catch {
      return;
    }
    // Only whole lines: the script may be half-way through writing the last one.
    const end = text.lastIndexOf('\n') + 1;
    this.commandLogOffset += end;
    for (const { source, name } of parseRestoreCommandLog(text.slice(0, end))) {
      // A segment `lifeboat wal fetch` fetched itself: replay needs neither it nor any before it from here.
      if (source === 'fetch' && SEGMENT_NAME.test(name)) this.advance(walPosition(name), true);
    }
  }

  private advance(position: string | undefined, inclusive: boolean): void {
    if (position === undefined || position === this.options.checkpointPosition) return;
    const current = this.passed;
    if (current === undefined || position > current.position || (position === current.position && inclusive)) this.passed = { position, inclusive };
  }

  private drop(name: string): void {
    let taken = false;
    try {
      unlinkSync(join(this.options.prefetchDir, name));
    } catch {
      // Taken by restore_command at this very moment: then it was wanted after all.
      taken = true;
    }
    this.set(name, undefined);
    if (taken) this.consumedFiles++;
    else this.droppedFiles++;
  }

  private set(name: string, file: HeldFile | undefined): void {
    this.heldBytes -= this.held.get(name)?.bytes ?? 0;
    if (file === undefined) this.held.delete(name);
    else {
      this.held.set(name, file);
      this.heldBytes += file.bytes;
      this.peakHeldBytes = Math.max(this.peakHeldBytes, this.heldBytes);
    }
  }
}
