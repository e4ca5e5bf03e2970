/**
 * `--metrics HOST:PORT`: read as `--listen` reads a TCP address
 * (listen-address.ts); a unix socket is refused.
 */
import { describe, expect, it } from 'vitest';
import { parseMetricsAddress } from '../../../src/server/metrics-http.js';

describe('parseMetricsAddress', () => {
  it.each<[string, { host: string; port: number }]>([
    ['127.0.0.1:9101', { host: '127.0.0.1', port: 9101 }],
    ['[::1]:9101', { host: '::1', port: 9101 }],
    ['*:9101', { host: '', port: 9101 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('%s', (text, address) => {
    expect(parseMetricsAddress(text)).toEqual({ ok: true, address });
  });

  it.each<[string, RegExp]>([
    ['unix:/run/mda/metrics', /HOST:PORT/],
    ['9101', /HOST:PORT/],
    ['127.0.0.1:65536', /port/],
    ['::1:9101', /brackets/],
    ['127.0.0.1:', /port/],
  ])('%s is refused', (text, why) => {
    const r = parseMetricsAddress(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.why).toMatch(why);
  });
});
