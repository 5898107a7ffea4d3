// The scenario files shipped in drills/ parse, and a scenario with a typo is refused naming the key and the fix,
// as the config is.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LATEST_SCENARIO, loadDrillScenario, parseDrillScenario } from '../../src/drills/drill-scenario.js';
import { isLifeboatError } from '../../src/errors/index.js';

const DRILLS = join(process.cwd(), 'drills');

describe('drill scenarios', () => {
  it('every file in drills/ is a valid scenario named like its file', () => {
    const files = readdirSync(DRILLS).filter((name) => name.endsWith('.yaml'));
    expect(files.sort()).toEqual(['corrupt-object.yaml', 'latest.yaml', 'pitr-random.yaml', 'region-loss.yaml']);
    for (const file of files) {
      const scenario = loadDrillScenario(join(DRILLS, file));
      expect(`${scenario.name}.yaml`).toBe(file);
    }
  });

  it('latest.yaml is the built-in default', () => {
    const { file: _file, ...fromFile } = loadDrillScenario(join(DRILLS, 'latest.yaml'));
    expect(fromFile).toEqual(LATEST_SCENARIO);
  });

  it('names an unknown key with a suggestion, and a bad target', () => {
    let error: unknown;
    try {
      parseDrillScenario({ name: 'x', chekcs: {}, target: 'yesterday' }, 'x.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(isLifeboatError(error, 'config')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('unknown key "chekcs"; did you mean "checks"?');
    expect(message).toContain('target');
  });
});
