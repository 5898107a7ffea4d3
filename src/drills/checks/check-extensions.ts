// Every extension the restored databases use can run on this host: its control file is installed and each C
// library its functions live in loads. A library the drill host lacks is a disaster-recovery finding (a real
// recovery onto such a host would break the same way), reported by name, never skipped.
import type { PgClient } from '../../postgres/index.js';
import type { CheckOutcome } from './timed-check.js';

/** The library named in a server log's "could not access file" (a shared_preload_libraries entry this host lacks). */
export function missingLibraryInLog(text: string): string | undefined {
  return /could not (?:access|load) (?:file|library) "([^"]+)"/.exec(text)?.[1];
}

export async function checkExtensions(client: PgClient, database: string): Promise<CheckOutcome> {
  const unavailable = (await client.query<{ extname: string; extversion: string }>(
    `select e.extname, e.extversion from pg_extension e
      where not exists (select 1 from pg_available_extension_versions a where a.name = e.extname and a.version = e.extversion)
      order by 1`,
  )).rows;
  const libraries = (await client.query<{ probin: string }>(`select distinct probin from pg_proc where probin is not null order by 1`)).rows.map((r) => r.probin);
  const unloadable: string[] = [];
  for (const library of libraries) {
    try {
      await client.query(`load ${`'${library.replace(/'/g, "''")}'`}`);
    } catch (error) {
      unloadable.push(`${library}: ${(error as Error).message}`);
    }
  }
  const findings = [...unavailable.map((e) => `extension ${e.extname} ${e.extversion} is not installed on this host`), ...unloadable.map((l) => `library ${l}`)];
  if (findings.length > 0) return { outcome: 'failed', message: `${database}: ${findings[0]}${findings.length > 1 ? ` (and ${findings.length - 1} more)` : ''}`, details: findings.join('\n') };
  return { outcome: 'passed', message: `${database}: every extension is installed here and ${libraries.length} C librar${libraries.length === 1 ? 'y loads' : 'ies load'}` };
}
