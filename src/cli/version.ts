// Lifeboat's own version, read from package.json so it is recorded in manifests and printed by --version.
import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export const LIFEBOAT_VERSION: string = packageJson.version;
