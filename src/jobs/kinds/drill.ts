// Job kind `drill`: a scheduled restore drill, as `lifeboat drill run` with the cluster's `drill.scenario`. It
// takes the base-backup lock (a drill's restore must not race a full backup for the newest chain), and at most one
// drill runs per host (runDrill's own process lock). A drill whose target or check failed fails the job
// (drillFailed), so job failure alerts fire; its result is stored in the repository either way.
import { z } from 'zod';
import { jobDataSchema, type JobKind } from '../job-kind.js';

const dataSchema = jobDataSchema('drill', { scenario: z.string().min(1).max(4096).optional() });

export const drillKind: JobKind<z.infer<typeof dataSchema>> = {
  name: 'drill',
  dataSchema,
  locks: ['base-backup'],
  async run({ config, cluster, data, log, signal, lifeboatVersion }) {
    const [{ runDrill, drillFailedError }, { LATEST_SCENARIO, loadDrillScenario }, { storeDrillResult }, { openRepository }] = await Promise.all([
      import('../../drills/run-drill.js'),
      import('../../drills/drill-scenario.js'),
      import('../../drills/history/store-drill-result.js'),
      import('../../repository/open-repository.js'),
    ]);
    const file = data.scenario ?? cluster.drill.scenario;
    const scenario = file ? loadDrillScenario(file) : LATEST_SCENARIO;
    const repository = await openRepository(config, 'read');
    try {
      const result = await runDrill({
        config,
        cluster,
        scenario,
        storage: repository.storage,
        keys: repository.keys,
        log,
        signal,
        lifeboatVersion,
        storeResult: async (drill) => void (await storeDrillResult({ storage: repository.storage, keys: repository.keys, result: drill, signal })),
      });
      if (result.outcome === 'failed') throw drillFailedError(result);
      const rpo = result.rpo.seconds === undefined ? 'unmeasured' : `${result.rpo.seconds.toFixed(1)} s`;
      return { message: `drill ${result.drillId} (${result.scenario.name}) ${result.outcome}: RPO ${rpo}, RTO ${result.rto.seconds?.toFixed(1) ?? '?'} s` };
    } finally {
      repository.close();
    }
  },
};
