// Secrets never live in the config file: a secret field holds a reference ({ env } or { file }) and is resolved
// at start-up into a Secret, whose value cannot reach a log or JSON output by accident. A reference that cannot
// be resolved fails only where its value is needed (reveal()), so a restore never needs the database password.
import { readFileSync, statSync } from 'node:fs';
import { inspect } from 'node:util';
import { z } from 'zod';
import { LifeboatError } from '../errors/index.js';
import { registerSecret } from '../log/index.js';

/** How a config file names a secret: an environment variable or a file holding it. */
export type SecretReference = { env: string } | { file: string };

const REFERENCE_FORM = '{ env: NAME } or { file: /path/to/secret }';

/** Zod schema for a secret field: a reference object; a literal string is refused with the reference form. */
export const secretReferenceSchema = z.unknown().transform((value, ctx): SecretReference => {
  if (typeof value === 'string' || typeof value === 'number') {
    ctx.addIssue({
      code: 'custom',
      message: `a literal secret is not allowed here; write a reference instead: ${REFERENCE_FORM}`,
    });
    return z.NEVER;
  }
  const parsed = z
    .union([z.strictObject({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/) }), z.strictObject({ file: z.string().min(1) })])
    .safeParse(value);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: `expected a secret reference: ${REFERENCE_FORM}` });
    return z.NEVER;
  }
  return parsed.data;
});

/**
 * A secret value, or the reason it could not be resolved. Its string forms are masked; call reveal() only where
 * the value is handed over: it throws the resolution error (code `secret`, naming the config field) there.
 */
export class Secret {
  readonly #value: string | LifeboatError;
  /** Where the value came from, e.g. `env MAIN_PGPASSWORD`; safe to print. */
  readonly source: string;

  /** `value` is the secret, or the error to throw when it is revealed. */
  constructor(value: string | LifeboatError, source: string) {
    this.#value = value;
    this.source = source;
    if (typeof value === 'string') registerSecret(value);
  }

  /** Why the reference could not be resolved; undefined when it was. */
  get error(): LifeboatError | undefined {
    return typeof this.#value === 'string' ? undefined : this.#value;
  }

  reveal(): string {
    if (typeof this.#value !== 'string') throw this.#value;
    return this.#value;
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return `Secret(${this.source})`;
  }
}

/** Where a reference points, as Secret.source prints it. */
function describeReference(reference: SecretReference, baseDir: string): string {
  return 'env' in reference ? `env ${reference.env}` : `file ${reference.file.startsWith('/') ? reference.file : `${baseDir}/${reference.file}`}`;
}

/**
 * Resolve a reference, deferring failure: an unset variable or unreadable file becomes a Secret whose reveal()
 * throws the error {@link resolveSecret} would have, so only the commands that use the secret fail on it.
 */
export function resolveSecretWhenUsed(reference: SecretReference, fieldPath: string, baseDir: string, env: NodeJS.ProcessEnv): Secret {
  try {
    return resolveSecret(reference, fieldPath, baseDir, env);
  } catch (error) {
    if (error instanceof LifeboatError) return new Secret(error, describeReference(reference, baseDir));
    throw error;
  }
}

/**
 * Resolve a reference. `fieldPath` names the config field in errors, `baseDir` anchors relative file paths.
 * File secrets have one trailing newline removed (editors add one).
 */
export function resolveSecret(reference: SecretReference, fieldPath: string, baseDir: string, env: NodeJS.ProcessEnv): Secret {
  if ('env' in reference) {
    const value = env[reference.env];
    if (value === undefined || value === '') {
      throw new LifeboatError('secret', `${fieldPath}: environment variable ${reference.env} is not set`, {
        hint: `export ${reference.env}=... before running lifeboat, or point ${fieldPath} at a file: { file: /path/to/secret }`,
      });
    }
    return new Secret(value, `env ${reference.env}`);
  }
  const path = reference.file.startsWith('/') ? reference.file : `${baseDir}/${reference.file}`;
  let text: string;
  try {
    const mode = statSync(path).mode;
    if ((mode & 0o077) !== 0) {
      throw new LifeboatError('secret', `${fieldPath}: secret file ${path} is readable by group or others`, {
        hint: `chmod 600 ${path}`,
      });
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof LifeboatError) throw error;
    throw new LifeboatError('secret', `${fieldPath}: cannot read secret file ${path}`, {
      hint: 'create the file (mode 0600) or fix the path in the config',
      cause: error,
    });
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '') {
    throw new LifeboatError('secret', `${fieldPath}: secret file ${path} is empty`, { hint: 'write the secret into the file' });
  }
  return new Secret(value, `file ${path}`);
}
