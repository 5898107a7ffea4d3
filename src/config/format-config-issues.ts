// Turns zod issues into messages an operator can act on: the field path as written in YAML
// (`clusters[0].postgres.password`), what is wrong, and for unknown keys the closest valid key.
import type { z } from 'zod';

/** `['clusters', 0, 'postgres']` -> `clusters[0].postgres`; the root is `(top level)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The known key closest to `key`, if it is close enough to be a typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

/** One line per issue. `knownKeysAt` returns the valid keys of the object at a path (for typo suggestions). */
export function formatConfigIssues(
  issues: readonly z.core.$ZodIssue[],
  knownKeysAt: (path: readonly PropertyKey[]) => readonly string[],
): string[] {
  return issues.map((issue) => {
    const where = formatPath(issue.path);
    switch (issue.code) {
      case 'unrecognized_keys':
        return issue.keys
          .map((key) => {
            const field = formatPath([...issue.path, key]);
            const suggestion = suggestKey(key, knownKeysAt(issue.path));
            return `${field}: unknown key "${key}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`;
          })
          .join('\n');
      case 'invalid_type':
        return issue.input === undefined ? `${where}: required, but missing` : `${where}: expected ${issue.expected}`;
      case 'invalid_union':
        {
          // Discriminated unions report the allowed tags in `options` (not in the typed issue shape).
          const options = (issue as { options?: unknown }).options;
          if (Array.isArray(options)) return `${where}: must be one of ${options.map((o) => `"${String(o)}"`).join(', ')}`;
        }
        return `${where}: ${issue.message}`;
      case 'invalid_value':
        return `${where}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
      default:
        return `${where}: ${issue.message}`;
    }
  });
}
