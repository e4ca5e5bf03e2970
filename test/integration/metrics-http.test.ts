/**
 * The `--metrics` endpoint in-process on 127.0.0.1 port 0, scraped with fetch:
 * the body parses line by line as the Prometheus text format 0.0.4 and carries
 * what the facade recorded; other paths and methods; and its bounds (no body
 * waited for, few connections, slow clients cut off, everything closed at
 * shutdown).
 */
import { createServer as createTcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { delivered, reject, temp } from '../../src/outcome/outcome.js';
import { MemoryBreakerStore } from '../../src/scanners/breaker-store.js';
import { LmtpMetrics, breakerSamples } from '../../src/server/lmtp-metrics.js';
import { startMetricsHttp, type MetricsHttpServer } from '../../src/server/metrics-http.js';
import type { ScannerConfig } from '../../src/config/schema.js';
import { lineClient, type LineClient } from '../helpers/line-client.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';

const LOOPBACK = { host: '127.0.0.1', port: 0 };
let server: MetricsHttpServer | undefined;
const clients: LineClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.socket.destroy();
  await server?.close();
  server = undefined;
});

const url = (path: string) => `http://127.0.0.1:${server!.port}${path}`;

async function raw(): Promise<LineClient> {
  const c = await lineClient(server!.port);
  clients.push(c);
  return c;
}

/** Waits (bounded by the test's own timeout) until the server has accepted `n` connections. */
async function untilConnections(n: number): Promise<void> {
  while ((await server!.connections()) !== n) await new Promise((r) => setTimeout(r, 10));
}

describe('GET /metrics', () => {
  it('Prometheus text format 0.0.4: the content type, and a body that parses line by line with the recorded values', async () => {
    const breakers = new MemoryBreakerStore();
    await breakers.write('spamd 127.0.0.1:783', { failures: 5, openUntilMs: Date.now() + 600_000, lastLogMs: 0 });
    const scanners = [{ type: 'spamd', name: 'spamd', hosts: ['127.0.0.1:783'], command: [] }] as unknown as ScannerConfig[];
    let active = 2;
    const m = new LmtpMetrics({ activeConnections: () => active, breakers: () => breakerSamples(scanners, (k) => breakers.peek(k), Date.now()) });
    m.transactionDone([delivered('', 'f'), temp('over-quota', 'q'), reject('loop', 'l')], 0.02);
    m.rcptRefused(reject('unknown-user', 'x'));
    server = await startMetricsHttp(LOOPBACK, () => m.render());
    expect(server.bound).toBe(`127.0.0.1:${server.port}`);

    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(res.headers.get('connection')).toBe('close');
    const f = parsePrometheusText(await res.text());
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'delivered', dsn_class: '2' })).toBe(1);
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'temp', dsn_class: '4' })).toBe(1);
    expect(sampleValue(f, 'mda_lmtp_deliveries_total', { outcome: 'reject', dsn_class: '5' })).toBe(1);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_count')).toBe(3);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_bucket', { le: '0.025' })).toBe(3);
    expect(sampleValue(f, 'mda_lmtp_delivery_seconds_bucket', { le: '0.01' })).toBe(0);
    expect(sampleValue(f, 'mda_lmtp_rcpt_refused_total', { reason: 'unknown' })).toBe(1);
    expect(sampleValue(f, 'mda_lmtp_connections_active')).toBe(2);
    expect(sampleValue(f, 'mda_scanner_breaker_state', { scanner: 'spamd', endpoint: '127.0.0.1:783' })).toBe(1);

    // Every scrape renders anew.
    active = 0;
    await breakers.write('spamd 127.0.0.1:783', { failures: 0, openUntilMs: 0, lastLogMs: 0 });
    const again = parsePrometheusText(await (await fetch(url('/metrics'))).text());
    expect(sampleValue(again, 'mda_lmtp_connections_active')).toBe(0);
    expect(sampleValue(again, 'mda_scanner_breaker_state', { scanner: 'spamd', endpoint: '127.0.0.1:783' })).toBe(0);
  });

  it('a query string is ignored; HEAD gets the headers and no body', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n');
    expect(await (await fetch(url('/metrics?name[]=x'))).text()).toBe('x 1\n');
    const head = await fetch(url('/metrics'), { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('4');
    expect(await head.text()).toBe('');
  });

  it.each<[string, string, number]>([
    ['the root', '/', 404],
    ['a prefix', '/metric', 404],
    ['a longer path', '/metrics/x', 404],
    ['another file', '/favicon.ico', 404],
  ])('RFC 9110 §15.5.5: %s is 404', async (_n, path, status) => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n');
    const res = await fetch(url(path));
    expect(res.status).toBe(status);
    expect(await res.text()).not.toContain('x 1');
  });

  it('RFC 9110 §15.5.6: POST /metrics is 405 with Allow: GET, HEAD', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n');
    const res = await fetch(url('/metrics'), { method: 'POST', body: 'a=b' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });

  it('a render that throws is a 500, and the server goes on', async () => {
    let fail = true;
    server = await startMetricsHttp(LOOPBACK, () => {
      if (fail) throw new Error('bug');
      return 'x 1\n';
    });
    expect((await fetch(url('/metrics'))).status).toBe(500);
    fail = false;
    expect(await (await fetch(url('/metrics'))).text()).toBe('x 1\n');
  });
});

describe('bounds', () => {
  it('a request announcing a 1 GB body is answered without the body being waited for, and closed', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n');
    const c = await raw();
    c.send('POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n');
    const got = await c.closed();
    expect(got).toMatch(/^HTTP\/1\.1 405 /);
    expect(got.toLowerCase()).toContain('connection: close');
  });

  it('a GET is answered and the connection closed (one request per connection)', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n');
    const c = await raw();
    c.send('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    const got = await c.closed();
    expect(got).toMatch(/^HTTP\/1\.1 200 /);
    expect(got.endsWith('\r\n\r\nx 1\n')).toBe(true);
  });

  it('connections over maxConnections are closed unanswered; a scrape works again once one ends', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n', { maxConnections: 2, requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    const a = await raw();
    await raw();
    await untilConnections(2);
    const third = await raw();
    third.send('GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await third.closed()).toBe('');
    a.socket.destroy();
    await untilConnections(1);
    expect(await (await fetch(url('/metrics'))).text()).toBe('x 1\n');
  });

  it('a client that never finishes its headers is cut off (requestTimeout)', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n', { maxConnections: 4, requestTimeoutMs: 300, idleTimeoutMs: 60_000 });
    const c = await raw();
    c.send('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    const got = await c.closed();
    expect(got).not.toContain('x 1');
  });

  it('a client that connects and says nothing is cut off (idle timeout)', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n', { maxConnections: 4, requestTimeoutMs: 60_000, idleTimeoutMs: 300 });
    const c = await raw();
    expect(await c.closed()).toBe('');
  });

  it('close() stops listening and ends open connections, idle or in the middle of a request', async () => {
    server = await startMetricsHttp(LOOPBACK, () => 'x 1\n', { maxConnections: 4, requestTimeoutMs: 60_000, idleTimeoutMs: 60_000 });
    const port = server.port;
    const idle = await raw();
    const midRequest = await raw();
    midRequest.send('GET /metrics HTTP/1.1\r\n');
    await untilConnections(2);
    await server.close();
    server = undefined;
    expect(await idle.closed()).toBe('');
    expect(await midRequest.closed()).toBe('');
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('an address in use is an error at start, not later', async () => {
    const taken = createTcpServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as { port: number }).port;
    try {
      await expect(startMetricsHttp({ host: '127.0.0.1', port }, () => '')).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise((r) => taken.close(r));
    }
  });
});
