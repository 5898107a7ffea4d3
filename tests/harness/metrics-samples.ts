// Reads a Prometheus text exposition the way the tests compare it: `name{labels}` -> value, comments skipped.
export function parseMetricSamples(text: string): Map<string, number> {
  const result = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    result.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return result;
}
