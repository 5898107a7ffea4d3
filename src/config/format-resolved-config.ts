// Prints a resolved config for `lifeboat config check`: every default filled in, every path absolute, and
// each secret shown only as where it came from, never its value.
import { stringify } from 'yaml';
import { Secret } from './secret-reference.js';
import type { RuntimeConfig } from './load-config.js';

/** The config as plain data with secrets replaced by `<secret from env NAME>`. */
export function maskConfig(config: RuntimeConfig): unknown {
  return JSON.parse(
    JSON.stringify(config, function replacer(this: Record<string, unknown>, key: string, value: unknown) {
      const original = this[key];
      return original instanceof Secret ? `<secret from ${original.source}>` : value;
    }),
  );
}

/** YAML text of the masked config. */
export function formatResolvedConfig(config: RuntimeConfig): string {
  return stringify(maskConfig(config));
}
