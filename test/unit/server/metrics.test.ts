/**
 * The metrics registry's text (Prometheus exposition format 0.0.4): escaping,
 * cumulative histogram buckets with +Inf, _sum and _count, the empty registry,
 * registration errors, and callback gauges that fail. Every rendered text is
 * also read back by the strict parser in test/helpers/prometheus-text.ts.
 */
import { describe, expect, it } from 'vitest';
import { MetricsRegistry, escapeHelp, escapeLabelValue, formatValue } from '../../../src/server/metrics.js';
import { parsePrometheusText, sampleValue } from '../../helpers/prometheus-text.js';

describe('escaping (exposition format 0.0.4)', () => {
  it.each<[string, string, string]>([
    ['plain text stays', 'spamd', 'spamd'],
    ['a backslash doubles', 'C:\\x', 'C:\\\\x'],
    ['a double quote gets a backslash', 'say "hi"', 'say \\"hi\\"'],
    ['a newline becomes \\n', 'a\nb', 'a\\nb'],
    ['a backslash before n is not read as a newline', '\\n', '\\\\n'],
    ['all three together', '\\"\n', '\\\\\\"\\n'],
    ['UTF-8 stays as it is', 'Größe ✓', 'Größe ✓'],
    ['a carriage return and a tab stay (only three escapes exist)', 'a\r\tb', 'a\r\tb'],
  ])('label value: %s', (_n, raw, want) => {
    expect(escapeLabelValue(raw)).toBe(want);
  });

  it.each<[string, string, string]>([
    ['quotes stay in HELP', 'the "x"', 'the "x"'],
    ['a backslash doubles', 'a\\b', 'a\\\\b'],
    ['a newline becomes \\n', 'one\ntwo', 'one\\ntwo'],
  ])('HELP: %s', (_n, raw, want) => {
    expect(escapeHelp(raw)).toBe(want);
  });

  it.each<[number, string]>([
    [0, '0'],
    [1, '1'],
    [0.001, '0.001'],
    [60, '60'],
    [1e-7, '1e-7'],
    [-2.5, '-2.5'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [NaN, 'NaN'],
  ])('value %s → %s', (v, want) => {
    expect(formatValue(v)).toBe(want);
  });

  it('an escaped label value reads back as the original through the parser', () => {
    const r = new MetricsRegistry();
    const raw = 'we\\ird "name"\nnext line';
    r.gauge('g', 'help', ['v']).set({ v: raw }, 1);
    expect(r.render()).toContain('g{v="we\\\\ird \\"name\\"\\nnext line"} 1\n');
    expect(parsePrometheusText(r.render()).get('g')!.samples[0]!.labels['v']).toBe(raw);
  });
});

describe('render', () => {
  it('an empty registry renders nothing (valid: zero lines)', () => {
    expect(new MetricsRegistry().render()).toBe('');
    expect(parsePrometheusText('').size).toBe(0);
  });

  it('unlabelled counter and gauge show 0 from the start; labelled ones only HELP and TYPE until used', () => {
    const r = new MetricsRegistry();
    r.counter('c_total', 'a count');
    r.gauge('g', 'a level');
    r.counter('l_total', 'labelled', ['k']);
    expect(r.render()).toBe('# HELP c_total a count\n# TYPE c_total counter\nc_total 0\n# HELP g a level\n# TYPE g gauge\ng 0\n# HELP l_total labelled\n# TYPE l_total counter\n');
  });

  it('counters add, keep one series per label set in first-use order, and ignore negative or non-finite amounts', () => {
    const r = new MetricsRegistry();
    const c = r.counter('d_total', 'deliveries', ['outcome', 'dsn_class']);
    c.inc({ outcome: 'temp', dsn_class: '4' });
    c.inc({ dsn_class: '2', outcome: 'delivered' }, 2);
    c.inc({ outcome: 'temp', dsn_class: '4' });
    c.inc({ outcome: 'temp', dsn_class: '4' }, -5);
    c.inc({ outcome: 'temp', dsn_class: '4' }, NaN);
    c.inc({ outcome: 'temp', dsn_class: '4' }, Infinity);
    expect(r.render()).toBe(
      '# HELP d_total deliveries\n# TYPE d_total counter\n' +
        'd_total{outcome="temp",dsn_class="4"} 2\n' +
        'd_total{outcome="delivered",dsn_class="2"} 2\n',
    );
  });

  it('gauges set, go up and down', () => {
    const r = new MetricsRegistry();
    const g = r.gauge('open', 'open things');
    g.inc({});
    g.inc({}, 3);
    g.dec({});
    expect(r.render()).toContain('\nopen 3\n');
    g.set({}, -1.5);
    expect(r.render()).toContain('\nopen -1.5\n');
  });

  it('histogram: buckets are cumulative, le is inclusive, +Inf counts everything, then _sum and _count', () => {
    const r = new MetricsRegistry();
    const h = r.histogram('lat_seconds', 'latency', [0.001, 0.01, 1]);
    for (const v of [0.0005, 0.001, 0.002, 0.5, 100]) h.observe({}, v);
    h.observe({}, NaN); // ignored
    expect(r.render()).toBe(
      '# HELP lat_seconds latency\n# TYPE lat_seconds histogram\n' +
        'lat_seconds_bucket{le="0.001"} 2\n' +
        'lat_seconds_bucket{le="0.01"} 3\n' +
        'lat_seconds_bucket{le="1"} 4\n' +
        'lat_seconds_bucket{le="+Inf"} 5\n' +
        `lat_seconds_sum ${0.0005 + 0.001 + 0.002 + 0.5 + 100}\n` +
        'lat_seconds_count 5\n',
    );
  });

  it('histogram with no observation: zero buckets, _sum 0, _count 0', () => {
    const r = new MetricsRegistry();
    r.histogram('h', 'x', [1, 2]);
    expect(r.render()).toBe('# HELP h x\n# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="2"} 0\nh_bucket{le="+Inf"} 0\nh_sum 0\nh_count 0\n');
  });

  it('labelled histogram: le comes after the labels, each label set has its own buckets', () => {
    const r = new MetricsRegistry();
    const h = r.histogram('h', 'x', [1], ['scanner']);
    h.observe({ scanner: 'a' }, 0.5);
    h.observe({ scanner: 'b' }, 2);
    const text = r.render();
    expect(text).toContain('h_bucket{scanner="a",le="1"} 1\nh_bucket{scanner="a",le="+Inf"} 1\nh_sum{scanner="a"} 0.5\nh_count{scanner="a"} 1\n');
    expect(text).toContain('h_bucket{scanner="b",le="1"} 0\nh_bucket{scanner="b",le="+Inf"} 1\n');
    const f = parsePrometheusText(text);
    expect(sampleValue(f, 'h_count', { scanner: 'b' })).toBe(1);
  });

  it('a callback gauge is read at every render', () => {
    const r = new MetricsRegistry();
    let n = 1;
    r.gaugeFn('conns', 'open', [], () => [{ labels: {}, value: n }]);
    expect(r.render()).toContain('\nconns 1\n');
    n = 7;
    expect(r.render()).toContain('\nconns 7\n');
  });

  it('a callback gauge that throws or gives wrong labels loses its samples only; a repeated series is shown once', () => {
    const r = new MetricsRegistry();
    r.gaugeFn('bad', 'throws', [], () => {
      throw new Error('boom');
    });
    r.gaugeFn('wrong', 'wrong labels', ['a'], () => [{ labels: { b: 'x' } as never, value: 1 }]);
    r.gaugeFn('twice', 'repeats', ['a'], () => [{ labels: { a: 'x' }, value: 1 }, { labels: { a: 'x' }, value: 2 }]);
    r.counter('after_total', 'still there');
    const text = r.render();
    expect(text).toBe(
      '# HELP bad throws\n# TYPE bad gauge\n# HELP wrong wrong labels\n# TYPE wrong gauge\n' +
        '# HELP twice repeats\n# TYPE twice gauge\ntwice{a="x"} 1\n# HELP after_total still there\n# TYPE after_total counter\nafter_total 0\n',
    );
    expect(() => parsePrometheusText(text)).not.toThrow();
  });

  it('HELP text is escaped in the output', () => {
    const r = new MetricsRegistry();
    r.gauge('g', 'line one\nback\\slash');
    expect(r.render().split('\n')[0]).toBe('# HELP g line one\\nback\\\\slash');
  });
});

describe('registration and use errors (programming errors: thrown at once)', () => {
  it.each<[string, (r: MetricsRegistry) => unknown]>([
    ['a metric name with a dash', (r) => r.counter('a-b', 'x')],
    ['a metric name starting with a digit', (r) => r.gauge('1x', 'x')],
    ['a label name with a colon', (r) => r.counter('x', 'x', ['a:b'])],
    ['a reserved label name', (r) => r.counter('x', 'x', ['__name'])],
    ['a repeated label name', (r) => r.counter('x', 'x', ['a', 'a'])],
    ['a histogram label named le', (r) => r.histogram('x', 'x', [1], ['le'])],
    ['histogram buckets not ascending', (r) => r.histogram('x', 'x', [1, 1])],
    ['histogram buckets with +Inf given', (r) => r.histogram('x', 'x', [1, Infinity])],
    ['no histogram buckets', (r) => r.histogram('x', 'x', [])],
    ['the same name twice', (r) => (r.counter('x', 'x'), r.gauge('x', 'y'))],
  ])('%s', (_n, register) => {
    expect(() => register(new MetricsRegistry())).toThrow();
  });

  it.each<[string, Record<string, string>]>([
    ['a missing label', { outcome: 'temp' }],
    ['an extra label', { outcome: 'temp', dsn_class: '4', x: 'y' }],
    ['a different label', { outcome: 'temp', dsn: '4' }],
  ])('inc with %s throws', (_n, labels) => {
    const c = new MetricsRegistry().counter('d_total', 'x', ['outcome', 'dsn_class']);
    expect(() => c.inc(labels as never)).toThrow(/labels must be exactly outcome, dsn_class/);
  });
});

describe('the test parser itself rejects what the format forbids', () => {
  it.each<[string, string]>([
    ['no final newline', 'x 1'],
    ['a raw newline split of a label value', 'x{a="b\n"} 1\n'],
    ['an unknown escape', 'x{a="\\t"} 1\n'],
    ['a missing value', 'x{a="b"}\n'],
    ['a bad value', 'x 1,5\n'],
    ['TYPE after samples', 'x 1\n# TYPE x gauge\n'],
    ['two TYPE lines', '# TYPE x gauge\n# TYPE x gauge\n'],
    ['non-contiguous samples', 'x{a="1"} 1\ny 1\nx{a="2"} 1\n'],
    ['a duplicate series', 'x{a="1"} 1\nx{a="1"} 2\n'],
    ['histogram buckets going down', '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1\n'],
    ['histogram without +Inf', '# TYPE h histogram\nh_bucket{le="1"} 1\nh_count 1\n'],
    ['histogram _count not the +Inf bucket', '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_count 1\n'],
  ])('%s', (_n, text) => {
    expect(() => parsePrometheusText(text)).toThrow();
  });
});
