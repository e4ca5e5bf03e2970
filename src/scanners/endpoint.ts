/**
 * Talking to a scanner endpoint under ONE budget (an AbortSignal) for name
 * resolution, connect, write and read together, with failover across hosts in
 * that same budget. Owns no timers (the deadline does) and never calls
 * getaddrinfo: stuck in libuv's pool it hangs process.exit() (Postfix bounces).
 */
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import { monotonicMs } from '../deadline/deadline.js';
import type { SkipReason } from './types.js';
import { orderHosts, parseEndpoint, parseHostsFile, staticAddresses, type Endpoint } from './endpoint-parse.js';

/** A failure with a known skip reason and a one-line detail. */
export class ScanError extends Error {
  constructor(
    readonly skip: SkipReason,
    message: string,
  ) {
    super(message);
  }
}

/** Where an attempt is, for the detail line of a timeout. */
export interface Progress {
  phase: 'resolving' | 'connecting' | 'writing' | 'reading';
}

const REFUSED = new Set(['ECONNREFUSED', 'ENOENT']); // ENOENT: no socket file at that path

/** skipOf - the skip reason and one-line detail for anything an attempt threw. */
export function skipOf(err: unknown, signal: AbortSignal, progress: Progress): { skip: SkipReason; detail: string } {
  if (signal.aborted) return { skip: 'timeout', detail: `timeout while ${progress.phase}` };
  if (err instanceof ScanError) return { skip: err.skip, detail: err.message };
  const e = err as NodeJS.ErrnoException;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (REFUSED.has(code)) return { skip: 'refused', detail: `connection refused (${code})` };
  const text = String(e?.message ?? err).split('\n', 1)[0] ?? '';
  return { skip: 'error', detail: `${code || 'error'} while ${progress.phase}${code && text.includes(code) ? '' : `: ${text}`}` };
}

let hostsCache: Map<string, string[]> | undefined;
function etcHosts(): Map<string, string[]> {
  if (!hostsCache) {
    try {
      // Synchronous on purpose: a small local file, and no trip through the thread pool.
      hostsCache = parseHostsFile(fs.readFileSync('/etc/hosts', 'latin1'));
    } catch {
      hostsCache = new Map();
    }
  }
  return hostsCache;
}

/**
 * resolve - addresses for a host: literals, `localhost` and /etc/hosts without
 * DNS; anything else through c-ares (dns.Resolver: its own sockets, not the
 * thread pool), cancelled when the budget runs out.
 */
async function resolve(host: string, signal: AbortSignal): Promise<string[]> {
  const fixed = staticAddresses(host, etcHosts());
  if (fixed) return fixed;
  // Loaded only when a name needs DNS; require, not import(): bin/mda runs the bundle from a V8 code cache (vm.Script)
  const { Resolver } = (createRequire(import.meta.url)('node:dns') as typeof import('node:dns')).promises;
  const resolver = new Resolver({ tries: 2 });
  const cancel = () => resolver.cancel();
  signal.addEventListener('abort', cancel, { once: true });
  try {
    const v4 = await resolver.resolve4(host).catch((e: NodeJS.ErrnoException) => (signal.aborted ? Promise.reject(e) : []));
    const all = v4.length > 0 ? v4 : await resolver.resolve6(host).catch(() => [] as string[]);
    if (all.length === 0) throw new ScanError('error', `cannot resolve ${host}`);
    return all;
  } finally {
    signal.removeEventListener('abort', cancel);
  }
}

/** Never called for IP literals; passed so that no code path can reach getaddrinfo. */
const noLookup: net.LookupFunction = (hostname, _opts, cb) => {
  const err = Object.assign(new Error(`refusing getaddrinfo for ${hostname}`), { code: 'ENOTFOUND' });
  (cb as (e: Error) => void)(err);
};

function connectOnce(opts: net.NetConnectOpts, signal: AbortSignal): Promise<net.Socket> {
  return new Promise((resolveSocket, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const socket = net.connect(opts);
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const onError = (err: Error) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      socket.on('error', () => undefined); // exchange() reports errors; never an unhandled 'error'
      resolveSocket(socket);
    });
  });
}

/** connect - a connected socket to the endpoint; each resolved address is tried in turn. */
export async function connect(ep: Endpoint, signal: AbortSignal, progress: Progress): Promise<net.Socket> {
  if (ep.kind === 'unix') {
    progress.phase = 'connecting';
    return connectOnce({ path: ep.path }, signal);
  }
  progress.phase = 'resolving';
  const addresses = ep.literal ? [ep.host] : await resolve(ep.host, signal);
  progress.phase = 'connecting';
  let last: unknown;
  for (const address of addresses) {
    try {
      return await connectOnce({ host: address, port: ep.port, lookup: noLookup }, signal);
    } catch (err) {
      if (signal.aborted) throw err;
      last = err;
    }
  }
  throw last;
}

/** write - one chunk, waiting for 'drain' when the socket buffer is full (backpressure). */
export function write(socket: net.Socket, chunk: Buffer): Promise<void> {
  if (socket.destroyed) return Promise.reject(new ScanError('error', 'connection closed while writing'));
  if (socket.write(chunk)) return Promise.resolve();
  return new Promise((resolveWrite, reject) => {
    const done = () => {
      socket.off('drain', onDrain);
      socket.off('close', onClose);
    };
    const onDrain = () => (done(), resolveWrite());
    const onClose = () => (done(), reject(new ScanError('error', 'connection closed while writing')));
    socket.on('drain', onDrain);
    socket.on('close', onClose);
  });
}

/**
 * exchange - run `send` (which writes the request with write()), half-close, and
 * collect the reply until the peer's EOF, all under `signal`; abort destroys the
 * socket. Reading starts at once: a server may answer before the request is
 * complete (spamd `76 Bad header line`, clamd's size-limit ERROR), and whatever
 * arrived before a reset or EPIPE is returned for the protocol parser to judge.
 */
export function exchange(
  socket: net.Socket,
  send: (socket: net.Socket) => Promise<void>,
  signal: AbortSignal,
  opts: { maxReply: number; progress: Progress },
): Promise<Buffer> {
  return new Promise((resolveReply, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err !== undefined) reject(err);
      else resolveReply(Buffer.concat(chunks));
    };
    const onAbort = () => finish(signal.reason);
    if (signal.aborted) return finish(signal.reason);
    if (socket.destroyed) return finish(new ScanError('error', 'connection closed before the request'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('data', (d: Buffer) => {
      total += d.length;
      if (total > opts.maxReply) return finish(new ScanError('error', `reply longer than ${opts.maxReply} bytes`));
      chunks.push(d);
    });
    const noReply = () => new ScanError('error', `connection closed without a reply while ${opts.progress.phase}`);
    socket.on('end', () => finish(total > 0 ? undefined : noReply()));
    socket.on('error', (err) => finish(total > 0 ? undefined : err));
    socket.on('close', () => finish(total > 0 ? undefined : noReply()));
    opts.progress.phase = 'writing';
    send(socket).then(
      () => {
        opts.progress.phase = 'reading';
        socket.end(); // half-close: the request is complete
      },
      (err) => {
        // A closed socket settles through 'error'/'close' above, with whatever the
        // peer answered first; anything else (file error, too large) ends it here.
        if (!socket.destroyed) finish(err);
      },
    );
  });
}

export type HostsResult<T> =
  | { ok: true; endpoint: string; value: T }
  | { ok: false; endpoint: string; skip: SkipReason; detail: string };

/**
 * tryHosts - run `attempt` against each host (in order, or shuffled) within the
 * one budget: refused and error move on to the next host, a timeout ends it
 * (the budget is gone). The result names the endpoint that answered or failed
 * last; the detail lists every failure on one line.
 */
export async function tryHosts<T>(
  hosts: readonly string[],
  order: 'ordered' | 'shuffle',
  defaultPort: number,
  signal: AbortSignal,
  attempt: (ep: Endpoint, progress: Progress) => Promise<T>,
  onHost?: (host: string, ok: boolean) => void,
): Promise<HostsResult<T>> {
  const started = monotonicMs();
  const failures: string[] = [];
  let last: HostsResult<T> = { ok: false, endpoint: '(none)', skip: 'error', detail: 'no hosts configured' };
  for (const spec of orderHosts(hosts, order)) {
    const parsed = parseEndpoint(spec, defaultPort);
    if (!parsed.ok) {
      failures.push(parsed.why);
      last = { ok: false, endpoint: spec, skip: 'error', detail: failures.join('; ') };
      continue;
    }
    const ep = parsed.endpoint;
    const progress: Progress = { phase: 'connecting' };
    try {
      if (signal.aborted) throw signal.reason;
      const value = await attempt(ep, progress);
      onHost?.(spec, true);
      return { ok: true, endpoint: ep.label, value };
    } catch (err) {
      const { skip, detail } = skipOf(err, signal, progress);
      if (skip !== 'too-large') onHost?.(spec, false);
      const said = skip === 'timeout' ? `${detail} after ${Math.round(monotonicMs() - started)} ms` : detail;
      failures.push(hosts.length > 1 ? `${ep.label}: ${said}` : said);
      last = { ok: false, endpoint: ep.label, skip, detail: failures.join('; ') };
      if (skip === 'timeout' || skip === 'too-large') break;
    }
  }
  return last;
}

/**
 * messageChunks - the spooled message, streamed (never loaded whole); a read
 * failure is an 'error' skip, not mistaken for a refused socket (both ENOENT).
 */
export async function* messageChunks(path: string, signal: AbortSignal, chunkSize: number): AsyncGenerator<Buffer> {
  const stream = fs.createReadStream(path, { highWaterMark: chunkSize, signal });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ScanError('error', `cannot read the message: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
