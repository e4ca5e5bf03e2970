/**
 * A strict little parser of the Prometheus text exposition format 0.0.4, for
 * tests: every line must be a HELP, a TYPE, another comment or a sample; label
 * values are unescaped (`\\`, `\"`, `\n` only); a family's TYPE comes once,
 * before its samples, and its samples are contiguous; a histogram's buckets
 * are cumulative, end with le="+Inf", and that bucket equals _count. Throws
 * with the line number on the first violation.
 */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  help?: string;
  type: string;
  samples: Sample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseValue(text: string, where: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

function parseSample(line: string, where: string): Sample {
  const m = NAME.exec(line);
  if (!m) throw new Error(`${where}: no metric name`);
  const name = m[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    rest = rest.slice(1);
    while (!rest.startsWith('}')) {
      const l = LABEL.exec(rest);
      if (!l) throw new Error(`${where}: bad label name at ${JSON.stringify(rest.slice(0, 20))}`);
      rest = rest.slice(l[0].length);
      if (!rest.startsWith('="')) throw new Error(`${where}: expected =" after ${l[0]}`);
      rest = rest.slice(2);
      let value = '';
      for (;;) {
        const c = rest.charAt(0);
        if (c === '') throw new Error(`${where}: unterminated label value`);
        if (c === '\n') throw new Error(`${where}: raw newline in a label value`);
        if (c === '"') break;
        if (c === '\\') {
          const e = rest.charAt(1);
          if (e === '\\') value += '\\';
          else if (e === '"') value += '"';
          else if (e === 'n') value += '\n';
          else throw new Error(`${where}: bad escape \\${e}`);
          rest = rest.slice(2);
        } else {
          value += c;
          rest = rest.slice(1);
        }
      }
      rest = rest.slice(1);
      if (l[0] in labels) throw new Error(`${where}: label ${l[0]} repeated`);
      labels[l[0]] = value;
      if (rest.startsWith(',')) rest = rest.slice(1);
      else if (!rest.startsWith('}')) throw new Error(`${where}: expected , or } after a label`);
    }
    rest = rest.slice(1);
  }
  const fields = rest.trim().split(/[ \t]+/);
  if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2) throw new Error(`${where}: expected a value and an optional timestamp`);
  if (fields.length === 2 && !/^-?\d+$/.test(fields[1]!)) throw new Error(`${where}: bad timestamp`);
  return { name, labels, value: parseValue(fields[0]!, where) };
}

/** The family a sample belongs to: a histogram's _bucket/_sum/_count belong to its base name. */
function familyName(sample: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (sample.endsWith(suffix)) {
      const base = sample.slice(0, -suffix.length);
      if (types.get(base) === 'histogram' || (types.get(base) === 'summary' && suffix !== '_bucket')) return base;
    }
  }
  return sample;
}

export function parsePrometheusText(text: string): Map<string, Family> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the text must end with a newline');
  const families = new Map<string, Family>();
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  const lines = text === '' ? [] : text.slice(0, -1).split('\n');
  lines.forEach((line, i) => {
    const where = `line ${i + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) return; // another comment
      const [, kind, name, rest = ''] = m;
      if (!NAME.test(name!) || NAME.exec(name!)![0] !== name) throw new Error(`${where}: bad metric name in ${kind}`);
      if (kind === 'HELP') {
        if (helps.has(name!)) throw new Error(`${where}: second HELP for ${name}`);
        helps.add(name!);
        if (/\\(?![\\n])/.test(rest)) throw new Error(`${where}: bad escape in HELP`);
        const f = families.get(name!) ?? { name: name!, type: 'untyped', samples: [] };
        f.help = rest.replace(/\\(\\|n)/g, (_a, c: string) => (c === 'n' ? '\n' : '\\'));
        families.set(name!, f);
      } else {
        if (!TYPES.has(rest)) throw new Error(`${where}: bad TYPE ${JSON.stringify(rest)}`);
        if (types.has(name!)) throw new Error(`${where}: second TYPE for ${name}`);
        if (families.get(name!)?.samples.length) throw new Error(`${where}: TYPE for ${name} after its samples`);
        types.set(name!, rest);
        const f = families.get(name!) ?? { name: name!, type: rest, samples: [] };
        f.type = rest;
        families.set(name!, f);
      }
      return;
    }
    const s = parseSample(line, where);
    const fam = familyName(s.name, types);
    if (closed.has(fam)) throw new Error(`${where}: samples of ${fam} are not contiguous`);
    if (current !== undefined && current !== fam) closed.add(current);
    current = fam;
    const f = families.get(fam) ?? { name: fam, type: 'untyped', samples: [] };
    families.set(fam, f);
    if (f.type === 'histogram' && s.name === `${fam}_bucket` && s.labels['le'] === undefined) throw new Error(`${where}: a bucket without le`);
    const key = JSON.stringify([s.name, Object.entries(s.labels).sort()]);
    if (f.samples.some((o) => JSON.stringify([o.name, Object.entries(o.labels).sort()]) === key)) throw new Error(`${where}: duplicate series`);
    f.samples.push(s);
  });
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f);
  return families;
}

function checkHistogram(f: Family): void {
  const groups = new Map<string, { buckets: Array<[number, number]>; count?: number }>();
  for (const s of f.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const g = groups.get(key) ?? { buckets: [] };
    groups.set(key, g);
    if (s.name === `${f.name}_bucket`) g.buckets.push([parseValue(le!, `${f.name} le`), s.value]);
    else if (s.name === `${f.name}_count`) g.count = s.value;
  }
  for (const g of groups.values()) {
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) throw new Error(`${f.name}: le not ascending`);
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`${f.name}: buckets not cumulative`);
    }
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Infinity) throw new Error(`${f.name}: no le="+Inf" bucket`);
    if (g.count !== last[1]) throw new Error(`${f.name}: _count ${g.count} differs from the +Inf bucket ${last[1]}`);
  }
}

/** value: the one sample named `name` with exactly these labels, or undefined. */
export function sampleValue(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of families.values()) {
    for (const s of f.samples) {
      if (s.name !== name) continue;
      const a = Object.entries(s.labels).sort();
      const b = Object.entries(labels).sort();
      if (JSON.stringify(a) === JSON.stringify(b)) return s.value;
    }
  }
  return undefined;
}
