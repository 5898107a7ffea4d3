// vitest globalSetup: starts the services every test file shares, once per run, in the main process:
// two moto servers standing in for the primary (eu-central-1) and replica (eu-west-1) regions. Tests read
// them with `inject('motoPrimary')` / `inject('motoReplica')` and use their own bucket names or prefixes.
import type { TestProject } from 'vitest/node';
import { startMoto, type MotoServer } from './moto.js';
import './provided-context.js';

/** Starts the shared services and returns the teardown that stops them. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = await Promise.allSettled([startMoto({ region: 'eu-central-1' }), startMoto({ region: 'eu-west-1' })]);
  const servers = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const teardown = async (): Promise<void> => {
    await Promise.allSettled(servers.map((server) => server.stop()));
  };
  const failure = started.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await teardown();
    throw failure.reason;
  }
  const [primary, replica] = servers as [MotoServer, MotoServer];
  project.provide('motoPrimary', { endpoint: primary.endpoint, region: primary.region });
  project.provide('motoReplica', { endpoint: replica.endpoint, region: replica.region });
  return teardown;
}
