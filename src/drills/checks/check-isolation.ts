// Nothing in a drill's restored server may reach outside it. Its settings are checked on the running server (not
// only written), and each restored logical replication subscription is disabled and detached from its slot
// (slot_name = NONE), so that neither the drill nor a later DROP SUBSCRIPTION on a kept scratch server can advance
// or drop the publisher's slot. No apply worker can have started meanwhile: max_logical_replication_workers is 0.
import type { PgClient } from '../../postgres/index.js';
import type { ScratchConnector } from '../scratch-client.js';
import type { CheckOutcome } from './timed-check.js';

const EXPECTED: Readonly<Record<string, (value: string) => boolean>> = {
  primary_conninfo: (v) => v === '',
  archive_mode: (v) => v === 'off',
  max_logical_replication_workers: (v) => v === '0',
  ssl: (v) => v === 'off',
  listen_addresses: (v) => v === '127.0.0.1' || v === 'localhost' || v === '',
};

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

async function detachSubscriptions(connector: ScratchConnector, admin: PgClient): Promise<string[]> {
  const subscriptions = (await admin.query<{ subname: string; datname: string }>('select s.subname, d.datname from pg_subscription s join pg_database d on d.oid = s.subdbid order by 2, 1')).rows;
  for (const { subname, datname } of subscriptions) {
    const client = await connector.connect(datname);
    try {
      await client.query(`alter subscription ${quoteIdent(subname)} disable`);
      await client.query(`alter subscription ${quoteIdent(subname)} set (slot_name = none)`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return subscriptions.map((s) => `${s.datname}.${s.subname}`);
}

export async function checkIsolation(connector: ScratchConnector, admin: PgClient): Promise<CheckOutcome> {
  const detached = await detachSubscriptions(connector, admin);
  const problems: string[] = [];
  const names = Object.keys(EXPECTED);
  const settings = (await admin.query<{ name: string; setting: string }>('select name, setting from pg_settings where name = any($1)', [names])).rows;
  for (const { name, setting } of settings) if (!EXPECTED[name]!(setting)) problems.push(`${name} = '${setting}'`);
  const enabled = (await admin.query<{ subname: string }>('select subname from pg_subscription where subenabled or subslotname is not null')).rows;
  for (const { subname } of enabled) problems.push(`subscription ${subname} is still enabled or attached to a slot`);
  const receivers = (await admin.query<{ n: string }>(`select count(*)::text as n from pg_stat_activity where backend_type in ('walreceiver', 'logical replication worker', 'logical replication apply worker')`)).rows[0]!.n;
  if (receivers !== '0') problems.push(`${receivers} replication receiver or apply worker(s) running`);
  if (problems.length > 0) return { outcome: 'failed', message: `the scratch server could reach outside itself: ${problems.join('; ')}` };
  return {
    outcome: 'passed',
    message: `no link outside: no primary_conninfo, archiving off, no logical replication workers${detached.length > 0 ? `; ${detached.length} subscription(s) disabled and detached from their slots (${detached.join(', ')})` : ''}`,
  };
}
