// One line of `lifeboat check`: what was checked, whether it passed, and for a failure the error's code,
// message and hint, so a JSON consumer and a human read the same facts.
import { LifeboatError, describeError } from '../errors/index.js';

export interface CheckItem {
  /** Short name, e.g. `postgres connection`. */
  name: string;
  ok: boolean;
  /** True for a passed item that still needs attention (e.g. a slot retaining much WAL); never fails `check`. */
  warning?: boolean;
  /** What was found (on success) or what is wrong (on failure). */
  detail: string;
  code?: string;
  hint?: string;
}

export function passed(name: string, detail: string): CheckItem {
  return { name, ok: true, detail };
}

/** Passed, but worth acting on; `hint` says what to do. */
export function warned(name: string, detail: string, hint?: string): CheckItem {
  return { name, ok: true, warning: true, detail, ...(hint ? { hint } : {}) };
}

export function failed(name: string, detail: string, hint?: string, code = 'postgresConfig'): CheckItem {
  return { name, ok: false, detail, code, ...(hint ? { hint } : {}) };
}

/** Run `probe`; a thrown error becomes a failed item carrying the error's code and hint. */
export async function checkStep(name: string, probe: () => Promise<string>): Promise<CheckItem> {
  try {
    return passed(name, await probe());
  } catch (error) {
    if (error instanceof LifeboatError) return { name, ok: false, detail: error.message, code: error.code, ...(error.hint ? { hint: error.hint } : {}) };
    return { name, ok: false, detail: describeError(error), code: 'internal' };
  }
}
