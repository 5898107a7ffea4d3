// Every secret value Lifeboat resolves is registered here, so that log lines and error messages can be
// scrubbed of it wherever it leaks from (a driver error quoting a connection string, a child's stderr, ...).

const secrets = new Set<string>();
const MASK = '[redacted]';
/** Secrets shorter than this are not scrubbed by value: masking "a" everywhere would destroy every message. */
const MIN_SCRUB_LENGTH = 4;

/** Remember a secret value so that {@link redactSecrets} removes it from any text. */
export function registerSecret(value: string): void {
  if (value.length >= MIN_SCRUB_LENGTH) secrets.add(value);
  // URL-encoded forms leak through connection strings.
  const encoded = encodeURIComponent(value);
  if (encoded !== value && encoded.length >= MIN_SCRUB_LENGTH) secrets.add(encoded);
}

/** Replace every registered secret in `text` with a mask. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join(MASK);
  }
  return out;
}

/** Forget all registered secrets (tests only). */
export function clearSecretsForTests(): void {
  secrets.clear();
}

/** True when `text` contains a registered secret. */
export function containsSecret(text: string): boolean {
  for (const secret of secrets) if (text.includes(secret)) return true;
  return false;
}

/**
 * A copy of `env` without the variables that hold a registered secret: child processes get secrets only the way
 * Lifeboat hands them over (a 0600 file), never by inheriting the variable a config reference named.
 */
export function withoutSecretVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) if (value === undefined || !containsSecret(value)) out[name] = value;
  return out;
}
