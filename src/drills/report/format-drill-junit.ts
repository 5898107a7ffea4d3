// The drill as JUnit XML, the format every CI system reads: one <testsuite> per drill, one <testcase> per target
// (RPO, RTO) and per check, with the measured value against the target in the message. A drill that could not run
// is one `drill` case with an <error> naming the error's code. Skipped and not-applicable items are <skipped>.
import { RTO_PHASES, type DrillCheckResult, type DrillOutcome, type DrillResult, type DrillTargetResult } from '../drill-result.js';
import { formatSeconds } from './format-seconds.js';
import { escapeXmlAttribute, escapeXmlText } from './xml-escape.js';

/** One <testcase> before it is written out. */
interface JunitCase {
  classname: string;
  name: string;
  timeSeconds: number;
  outcome: DrillOutcome | 'error';
  /** The one-line message (failure/skipped/error `message`, or system-out of a passed case). */
  message: string;
  /** The failure or error body: longer output. */
  body?: string;
  /** The failure or error `type`. */
  type?: string;
}

interface Counts {
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
}

/** JUnit's time attribute: seconds with millisecond precision, never negative or NaN. */
function formatTime(seconds: number): string {
  return Number.isFinite(seconds) && seconds > 0 ? seconds.toFixed(3) : '0.000';
}

function secondsBetween(startIso: string, endIso: string): number {
  return (Date.parse(endIso) - Date.parse(startIso)) / 1000;
}

function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeXmlAttribute(String(value))}"`)
    .join('');
}

/** `RTO: measured 312 s, target 60 s: <the engine's message>`. */
function targetMessage(target: DrillTargetResult): string {
  const measured = target.measuredSeconds === undefined ? 'not measured' : `measured ${formatSeconds(target.measuredSeconds)}`;
  return `${target.name.toUpperCase()}: ${measured}, target ${formatSeconds(target.targetSeconds)}: ${target.message}`;
}

/** The RTO case's body: the phases it is made of, so a failure says where the time went. */
function rtoPhasesBody(result: DrillResult): string | undefined {
  const lines = RTO_PHASES.flatMap((phase) => {
    const seconds = result.rto.phases[phase];
    return seconds === undefined ? [] : [`${phase}: ${formatSeconds(seconds)}`];
  });
  if (result.rto.seconds !== undefined) lines.push(`total: ${formatSeconds(result.rto.seconds)}`);
  return lines.length > 0 ? lines.join('\n') : undefined;
}

function targetCase(result: DrillResult, target: DrillTargetResult): JunitCase {
  const body = target.name === 'rto' ? rtoPhasesBody(result) : result.rpo.heartbeatsLost !== undefined ? `heartbeats lost: ${result.rpo.heartbeatsLost} (method: ${result.rpo.method})` : `method: ${result.rpo.method}`;
  // A target is a verdict on measurements taken during the drill, not a step of its own: it takes no time.
  return { classname: 'lifeboat.drill.targets', name: target.name, timeSeconds: 0, outcome: target.outcome, message: targetMessage(target), type: 'target', ...(body === undefined ? {} : { body }) };
}

function checkCase(check: DrillCheckResult): JunitCase {
  return {
    classname: 'lifeboat.drill.checks',
    name: check.name,
    timeSeconds: check.durationMs / 1000,
    outcome: check.outcome,
    message: check.message,
    type: 'check',
    ...(check.details === undefined ? {} : { body: check.details }),
  };
}

function casesOf(result: DrillResult): JunitCase[] {
  const cases: JunitCase[] = [];
  if (result.error) {
    const { code, exitCode, message, hint } = result.error;
    cases.push({
      classname: 'lifeboat.drill',
      name: 'drill',
      timeSeconds: secondsBetween(result.startedTime, result.finishedTime),
      outcome: 'error',
      message: `${code}: ${message}`,
      type: code,
      body: `error[${code}] (exit ${exitCode}): ${message}${hint ? `\nHINT: ${hint}` : ''}`,
    });
  }
  // Whatever was measured before an error is kept: it tells how far the drill got.
  for (const target of result.targets) cases.push(targetCase(result, target));
  for (const check of result.checks) cases.push(checkCase(check));
  return cases;
}

function countCases(cases: readonly JunitCase[]): Counts {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.outcome === 'failed').length,
    errors: cases.filter((c) => c.outcome === 'error').length,
    skipped: cases.filter((c) => c.outcome === 'skipped' || c.outcome === 'not-applicable').length,
  };
}

function formatCase(c: JunitCase): string {
  const open = `    <testcase${attributes({ classname: c.classname, name: c.name, time: formatTime(c.timeSeconds) })}>`;
  const body = c.body === undefined ? '' : escapeXmlText(c.body);
  let inner: string;
  switch (c.outcome) {
    case 'passed':
      inner = `      <system-out>${escapeXmlText(c.message)}</system-out>`;
      break;
    case 'failed':
      inner = `      <failure${attributes({ message: c.message, type: c.type })}>${body}</failure>`;
      break;
    case 'error':
      inner = `      <error${attributes({ message: c.message, type: c.type })}>${body}</error>`;
      break;
    case 'skipped':
    case 'not-applicable':
      inner = `      <skipped${attributes({ message: `${c.outcome}: ${c.message}` })}/>`;
      break;
  }
  return `${open}\n${inner}\n    </testcase>`;
}

/** Facts about the drill that are not test cases, as <properties>: enough to tell which restore was tested. */
function properties(result: DrillResult): Record<string, string | number | undefined> {
  const phases = Object.fromEntries(RTO_PHASES.map((phase) => [`rto.${phase}Seconds`, result.rto.phases[phase]]));
  return {
    drillId: result.drillId,
    cluster: result.cluster,
    scenario: result.scenario.name,
    scenarioFile: result.scenario.file,
    outcome: result.outcome,
    disasterTime: result.disasterTime,
    source: result.source,
    restoreTarget: result.restoreTarget.value === undefined ? result.restoreTarget.kind : `${result.restoreTarget.kind} ${result.restoreTarget.value}`,
    backupId: result.backup?.backupId,
    walSegments: result.wal?.segments,
    'rpo.method': result.rpo.method,
    'rpo.seconds': result.rpo.seconds,
    'rpo.heartbeatsLost': result.rpo.heartbeatsLost,
    'rto.seconds': result.rto.seconds,
    ...phases,
    'version.lifeboat': result.versions.lifeboat,
    'version.postgresSource': result.versions.postgresSource,
    'version.postgresScratch': result.versions.postgresScratch,
    errorCode: result.error?.code,
  };
}

function formatSuite(result: DrillResult, cases: readonly JunitCase[], counts: Counts): string {
  const props = Object.entries(properties(result))
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([name, value]) => `      <property${attributes({ name, value })}/>`);
  const suite = attributes({
    name: `lifeboat drill ${result.cluster} ${result.scenario.name}`,
    id: result.drillId,
    ...counts,
    time: formatTime(secondsBetween(result.startedTime, result.finishedTime)),
    timestamp: result.startedTime,
    hostname: result.host,
  });
  return [`  <testsuite${suite}>`, '    <properties>', ...props, '    </properties>', ...cases.map(formatCase), '  </testsuite>'].join('\n');
}

/** The JUnit XML document of `results`: one <testsuite> per drill, in the order given. */
export function formatDrillJunit(results: readonly DrillResult[]): string {
  const suites = results.map((result) => {
    const cases = casesOf(result);
    return { result, cases, counts: countCases(cases) };
  });
  const total = suites.reduce<Counts>(
    (sum, { counts }) => ({ tests: sum.tests + counts.tests, failures: sum.failures + counts.failures, errors: sum.errors + counts.errors, skipped: sum.skipped + counts.skipped }),
    { tests: 0, failures: 0, errors: 0, skipped: 0 },
  );
  const totalSeconds = suites.reduce((sum, { result }) => sum + Math.max(0, secondsBetween(result.startedTime, result.finishedTime) || 0), 0);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites${attributes({ name: 'lifeboat drills', ...total, time: formatTime(totalSeconds) })}>`,
    ...suites.map(({ result, cases, counts }) => formatSuite(result, cases, counts)),
    '</testsuites>',
    '',
  ].join('\n');
}
