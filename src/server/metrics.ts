/**
 * A small metrics registry and its rendering in the Prometheus text exposition
 * format 0.0.4: labelled counters, gauges (set by the program or read from a
 * callback at scrape time) and histograms. One registry per server object,
 * never module-level. Pure: no I/O, no clock (histograms are given seconds).
 * Must not: know which metrics mda has (lmtp-metrics.ts) or serve them
 * (metrics-http.ts).
 */

/** The content type of what render() returns (Prometheus text format 0.0.4). */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
// Names starting with "__" are reserved for Prometheus itself.
const LABEL_NAME = /^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$/;

type Labels<L extends string> = Readonly<Record<L, string>>;

/** One labelled value read by a callback gauge at scrape time. */
export interface GaugeSample<L extends string> {
  labels: Labels<L>;
  value: number;
}

export interface Counter<L extends string> {
  /** Adds `by` (default 1). A negative, NaN or infinite amount is ignored: a counter only goes up. */
  inc(labels: Labels<L>, by?: number): void;
}

export interface Gauge<L extends string> {
  set(labels: Labels<L>, value: number): void;
  inc(labels: Labels<L>, by?: number): void;
  dec(labels: Labels<L>, by?: number): void;
}

export interface Histogram<L extends string> {
  /** Records one observation; NaN is ignored (it would poison _sum for good). */
  observe(labels: Labels<L>, value: number): void;
}

interface Series {
  labels: ReadonlyArray<readonly [string, string]>;
  value: number;
}

interface HistogramSeries {
  labels: ReadonlyArray<readonly [string, string]>;
  /** Per bucket (not cumulative), the last one being +Inf. */
  counts: number[];
  sum: number;
  count: number;
}

type Family =
  | { type: 'counter' | 'gauge'; name: string; help: string; labelNames: readonly string[]; series: Map<string, Series> }
  | { type: 'gauge-fn'; name: string; help: string; labelNames: readonly string[]; collect: () => Iterable<GaugeSample<string>> }
  | { type: 'histogram'; name: string; help: string; labelNames: readonly string[]; buckets: readonly number[]; series: Map<string, HistogramSeries> };

/** escapeLabelValue: `\` → `\\`, `"` → `\"`, newline → `\n` (the three the format escapes in label values). */
export function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** escapeHelp: `\` → `\\`, newline → `\n` (HELP text keeps its quotes). */
export function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** formatValue: Go's float syntax as Prometheus parses it: `+Inf`, `-Inf`, `NaN`, else JS's shortest form. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function labelText(labels: ReadonlyArray<readonly [string, string]>): string {
  if (labels.length === 0) return '';
  return `{${labels.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
}

export class MetricsRegistry {
  private readonly families: Family[] = [];

  /** counter registers a monotonically increasing count. */
  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    const f = this.add({ type: 'counter', name, help, labelNames, series: new Map() });
    // An unlabelled metric exists from the start: a scrape shows 0, not nothing.
    if (labelNames.length === 0) this.seriesOf(f, {});
    return {
      inc: (labels, by = 1) => {
        if (!Number.isFinite(by) || by < 0) return;
        this.seriesOf(f, labels).value += by;
      },
    };
  }

  /** gauge registers a value the program sets. */
  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    const f = this.add({ type: 'gauge', name, help, labelNames, series: new Map() });
    if (labelNames.length === 0) this.seriesOf(f, {});
    return {
      set: (labels, value) => void (this.seriesOf(f, labels).value = value),
      inc: (labels, by = 1) => void (this.seriesOf(f, labels).value += by),
      dec: (labels, by = 1) => void (this.seriesOf(f, labels).value -= by),
    };
  }

  /**
   * gaugeFn registers a gauge read at scrape time: state that already lives
   * elsewhere (open connections, breakers) is read, never copied and kept in sync.
   */
  gaugeFn<L extends string = never>(name: string, help: string, labelNames: readonly L[], collect: () => Iterable<GaugeSample<L>>): void {
    this.add({ type: 'gauge-fn', name, help, labelNames, collect: collect as () => Iterable<GaugeSample<string>> });
  }

  /** histogram registers a distribution over `buckets` (upper bounds, ascending; +Inf is added). */
  histogram<L extends string = never>(name: string, help: string, buckets: readonly number[], labelNames: readonly L[] = []): Histogram<L> {
    if (labelNames.includes('le' as L)) throw new Error(`metric ${name}: a histogram cannot have a label named le`);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw new Error(`metric ${name}: buckets must be finite and strictly ascending`);
    }
    const f = this.add({ type: 'histogram', name, help, labelNames, buckets: [...buckets], series: new Map() });
    const fresh = (labels: ReadonlyArray<readonly [string, string]>): HistogramSeries => ({ labels, counts: new Array<number>(buckets.length + 1).fill(0), sum: 0, count: 0 });
    // As for counters: an unlabelled histogram shows zero buckets from the start.
    if (labelNames.length === 0) f.series.set(this.keyOf(f, {}).key, fresh([]));
    return {
      observe: (labels, value) => {
        if (Number.isNaN(value)) return;
        const { key, pairs } = this.keyOf(f, labels);
        let s = f.series.get(key);
        if (!s) f.series.set(key, (s = fresh(pairs)));
        let i = f.buckets.findIndex((le) => value <= le);
        if (i < 0) i = f.buckets.length;
        s.counts[i]!++;
        s.sum += value;
        s.count++;
      },
    };
  }

  /** render writes every metric, in registration order, as the text format; '' when there are none. */
  render(): string {
    let out = '';
    for (const f of this.families) {
      const type = f.type === 'gauge-fn' ? 'gauge' : f.type;
      out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${type}\n`;
      if (f.type === 'counter' || f.type === 'gauge') {
        for (const s of f.series.values()) out += `${f.name}${labelText(s.labels)} ${formatValue(s.value)}\n`;
      } else if (f.type === 'gauge-fn') {
        out += this.collected(f);
      } else if (f.type === 'histogram') {
        for (const s of f.series.values()) {
          let cumulative = 0;
          f.buckets.forEach((le, i) => {
            cumulative += s.counts[i]!;
            out += `${f.name}_bucket${labelText([...s.labels, ['le', formatValue(le)]])} ${cumulative}\n`;
          });
          out += `${f.name}_bucket${labelText([...s.labels, ['le', '+Inf']])} ${s.count}\n`;
          out += `${f.name}_sum${labelText(s.labels)} ${formatValue(s.sum)}\n`;
          out += `${f.name}_count${labelText(s.labels)} ${s.count}\n`;
        }
      }
    }
    return out;
  }

  /** A callback that throws (or yields a wrong label set) costs its own samples only, never the scrape. */
  private collected(f: Extract<Family, { type: 'gauge-fn' }>): string {
    try {
      let out = '';
      const seen = new Set<string>();
      for (const sample of f.collect()) {
        const { key, pairs } = this.keyOf(f, sample.labels);
        if (seen.has(key)) continue; // a series appears once per scrape
        seen.add(key);
        out += `${f.name}${labelText(pairs)} ${formatValue(sample.value)}\n`;
      }
      return out;
    } catch {
      return '';
    }
  }

  private add<F extends Family>(f: F): F {
    if (!METRIC_NAME.test(f.name)) throw new Error(`bad metric name ${JSON.stringify(f.name)}`);
    if (this.families.some((g) => g.name === f.name)) throw new Error(`metric ${f.name} registered twice`);
    for (const l of f.labelNames) if (!LABEL_NAME.test(l)) throw new Error(`metric ${f.name}: bad label name ${JSON.stringify(l)}`);
    if (new Set(f.labelNames).size !== f.labelNames.length) throw new Error(`metric ${f.name}: a label name repeats`);
    this.families.push(f);
    return f;
  }

  /** The series key: label values in the registered order; exactly the registered labels must be given. */
  private keyOf(f: Family, labels: Readonly<Record<string, string>>): { key: string; pairs: Array<readonly [string, string]> } {
    const given = Object.keys(labels);
    if (given.length !== f.labelNames.length || f.labelNames.some((l) => typeof labels[l] !== 'string')) {
      throw new Error(`metric ${f.name}: labels must be exactly ${f.labelNames.join(', ') || '(none)'}`);
    }
    const pairs = f.labelNames.map((l) => [l, labels[l]!] as const);
    return { key: JSON.stringify(pairs.map(([, v]) => v)), pairs };
  }

  private seriesOf(f: Extract<Family, { series: Map<string, Series> }>, labels: Readonly<Record<string, string>>): Series {
    const { key, pairs } = this.keyOf(f, labels);
    let s = f.series.get(key);
    if (!s) f.series.set(key, (s = { labels: pairs, value: 0 }));
    return s;
  }
}
