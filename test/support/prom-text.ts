/** A sample's key: its name and labels, sorted: `name{a="1",b="2"}`. */
export const sampleKey = (name: string, labels: Record<string, string> = {}): string => {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${labels[k]}"`);
  return parts.length ? `${name}{${parts.join(',')}}` : name;
};

export interface PromText {
  /** Every sample by sampleKey. */
  readonly samples: Map<string, number>;
  /** # TYPE of every metric family. */
  readonly types: Map<string, string>;
  /** The sample's value; undefined when absent. */
  get(name: string, labels?: Record<string, string>): number | undefined;
}

/** Parses Prometheus text exposition format 0.0.4 (the subset prom-client writes: no escapes in label values). */
export function parsePromText(text: string): PromText {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP')) continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[k!] = v!;
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    if (Number.isNaN(value) && m[3] !== 'NaN') throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.set(sampleKey(m[1]!, labels), value);
  }
  return { samples, types, get: (name, labels) => samples.get(sampleKey(name, labels)) };
}
