/**
 * The `--metrics HOST:PORT` endpoint: a minimal node:http server answering
 * `GET /metrics` (and HEAD) with the Prometheus text, 404 for any other path,
 * 405 for any other method. Bounded: a few connections at once, short
 * timeouts, every response closes its connection, no request body is ever
 * buffered. Must not: compute metrics (render is handed in) or share anything
 * with the LMTP listeners: a scraper can never slow a delivery.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { formatListenAddress, parseListenAddress } from './listen-address.js';
import { EXPOSITION_CONTENT_TYPE } from './metrics.js';

export interface MetricsAddress {
  /** '' = every address. */
  host: string;
  port: number;
}

export interface MetricsHttpLimits {
  /** Connections at once; more are closed as they arrive (a scraper needs one). */
  maxConnections: number;
  /** The whole request, headers included, must arrive within this. */
  requestTimeoutMs: number;
  /** A connection idle this long is closed. */
  idleTimeoutMs: number;
}

export const METRICS_HTTP_LIMITS: MetricsHttpLimits = { maxConnections: 4, requestTimeoutMs: 5_000, idleTimeoutMs: 5_000 };

export interface MetricsHttpServer {
  /** `127.0.0.1:9101`, the port resolved when 0 was asked for. */
  readonly bound: string;
  readonly port: number;
  /** Connections open now (tests). */
  connections(): Promise<number>;
  /** close stops listening and ends every open connection. */
  close(): Promise<void>;
}

/** parseMetricsAddress: HOST:PORT as --listen reads it; a unix socket is refused (Prometheus scrapes over TCP). */
export function parseMetricsAddress(text: string): { ok: true; address: MetricsAddress } | { ok: false; why: string } {
  const r = parseListenAddress(text);
  if (!r.ok) return r;
  if (r.address.kind !== 'tcp') return { ok: false, why: `${JSON.stringify(text)}: the metrics endpoint is HOST:PORT (Prometheus scrapes over TCP)` };
  return { ok: true, address: { host: r.address.host, port: r.address.port } };
}

/** startMetricsHttp listens on `address` and serves `render()`; rejects when the address cannot be opened. */
export function startMetricsHttp(address: MetricsAddress, render: () => string, limits: MetricsHttpLimits = METRICS_HTTP_LIMITS): Promise<MetricsHttpServer> {
  const server = createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.requestTimeoutMs,
      // How often node checks the two above (default 30 s, longer than the timeouts themselves).
      connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
      keepAliveTimeout: limits.idleTimeoutMs,
      maxHeaderSize: 8_192,
    },
    (req, res) => answer(req, res, render),
  );
  server.maxConnections = limits.maxConnections;
  server.timeout = limits.idleTimeoutMs;
  server.on('clientError', (_err, socket: Socket) => socket.destroy());
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: address.host || undefined, port: address.port, exclusive: true }, () => {
      server.off('error', reject);
      // After start-up an error (EMFILE on accept...) must not become an uncaught exception.
      server.on('error', () => undefined);
      const info = server.address() as AddressInfo;
      const host = address.host === '' ? '' : info.address;
      resolve({
        bound: formatListenAddress({ kind: 'tcp', host, port: info.port }),
        port: info.port,
        connections: () => new Promise((ok) => server.getConnections((_e, n) => ok(n ?? 0))),
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function answer(req: IncomingMessage, res: ServerResponse, render: () => string): void {
  // One request per connection: nothing waits between scrapes, and an unread body is never kept for a next request.
  res.setHeader('Connection', 'close');
  const path = (req.url ?? '').split('?')[0];
  if (path !== '/metrics') return plain(res, 404, 'Not Found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return plain(res, 405, 'Method Not Allowed\n');
  }
  let body: string;
  try {
    body = render();
  } catch {
    return plain(res, 500, 'metrics unavailable\n');
  }
  res.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function plain(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
