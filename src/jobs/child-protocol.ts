// The messages between the daemon and a job's child process (Node IPC, JSON). The child gets what to run and may
// be told to abort; it answers with exactly one result. Errors cross as their catalog code, message and hint.
import type { ErrorCode } from '../errors/index.js';
import type { JobSummary } from './job-kind.js';

export interface StartMessage {
  type: 'start';
  /** The child loads the same config file as the daemon (secrets resolve in the child; none cross IPC). */
  configPath: string;
  kind: string;
  /** Job data already validated by the daemon; validated again by the child against its kind. */
  data: unknown;
  jobId: string;
  runKey: string;
  /** ISO time no backup of this run can have started before (see JobRunContext.runNotBefore). */
  runNotBefore: string;
  daemonId: string;
  lifeboatVersion: string;
}

export interface AbortMessage {
  type: 'abort';
  reason: string;
}

export type ParentMessage = StartMessage | AbortMessage;

export interface ChildError {
  code: ErrorCode;
  message: string;
  hint?: string;
}

export type ResultMessage = { type: 'result'; ok: true; summary: JobSummary } | { type: 'result'; ok: false; error: ChildError };
