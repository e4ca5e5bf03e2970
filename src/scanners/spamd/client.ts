/**
 * SpamdClient: one CHECK or HEADERS exchange with spamd per message, over the
 * hosts of one [[scanner]] entry, under the scan's single budget. Thin: bytes
 * and parsing are protocol.ts, sockets and failover endpoint.ts. Never rejects
 * from scan(): every failure is a 'skipped' verdict.
 */
import type net from 'node:net';
import type { ScannerConfig } from '../../config/schema.js';
import { monotonicMs } from '../../deadline/deadline.js';
import { connect, exchange, messageChunks, ScanError, tryHosts, write } from '../endpoint.js';
import type { ScanRequest, ScannerClient, Verdict } from '../types.js';
import { encodeRequest, parsePong, parseReply } from './protocol.js';

/** spamd's registered port (spamd(1) --port). */
export const SPAMD_PORT = 783;
// HEADERS returns the message's header block (Postfix caps it at header_size_limit,
// 100 KiB by default) plus spamd's own fields; CHECK returns two lines.
const MAX_REPLY = { headers: 1024 * 1024, check: 64 * 1024 };
const CHUNK = 64 * 1024;

type Scored = ReturnType<typeof parseReply> & { ok: true };

export class SpamdClient implements ScannerClient {
  readonly name: string;
  readonly type = 'spamd' as const;

  constructor(private readonly cfg: ScannerConfig) {
    this.name = cfg.name;
  }

  async scan(req: ScanRequest): Promise<Verdict> {
    const started = monotonicMs();
    const base = { scanner: this.name, type: this.type };
    const elapsed = () => Math.round(monotonicMs() - started);
    if (req.size > this.cfg.maxSize) {
      return { ...base, endpoint: this.cfg.hosts[0] ?? '(none)', status: 'skipped', skip: 'too-large', detail: `message ${req.size} bytes > max_size ${this.cfg.maxSize}`, elapsedMs: elapsed() };
    }
    const headers = this.cfg.spamdMode === 'headers';
    const head = encodeRequest({ command: headers ? 'HEADERS' : 'CHECK', user: this.cfg.spamdUser ?? req.user, contentLength: req.size });
    const maxReply = headers ? MAX_REPLY.headers : MAX_REPLY.check;

    const send = async (socket: net.Socket) => {
      await write(socket, head);
      let sent = 0;
      if (req.size > 0) {
        for await (const chunk of messageChunks(req.path, req.signal, CHUNK)) {
          // Content-length is req.size: never send more, and fail on less (spamd would answer 76).
          const piece = chunk.subarray(0, req.size - sent);
          sent += piece.length;
          await write(socket, piece);
          if (sent >= req.size) break;
        }
      }
      if (sent < req.size) throw new ScanError('error', `message file has ${sent} bytes, expected ${req.size}`);
    };

    try {
      const r = await tryHosts(this.cfg.hosts, this.cfg.order, SPAMD_PORT, req.signal, async (ep, progress) => {
        const socket = await connect(ep, req.signal, progress);
        const reply = parseReply(await exchange(socket, send, req.signal, { maxReply, progress }));
        if (!reply.ok) throw new ScanError('error', reply.why);
        return reply;
      }, req.onHost);
      if (!r.ok) return { ...base, endpoint: r.endpoint, status: 'skipped', skip: r.skip, detail: r.detail, elapsedMs: elapsed() };
      return { ...base, endpoint: r.endpoint, ...verdictOf(r.value), elapsedMs: elapsed() };
    } catch (err) {
      // Unreachable by design (tryHosts catches); kept so that scan() can never reject.
      return { ...base, endpoint: this.cfg.hosts[0] ?? '(none)', status: 'skipped', skip: 'error', detail: `internal error: ${String(err)}`, elapsedMs: elapsed() };
    }
  }

  /** ping - `PING` to every host; resolves when all answer PONG, rejects naming the ones that did not. */
  async ping(signal: AbortSignal): Promise<string> {
    if (this.cfg.hosts.length === 0) throw new Error(`${this.name}: no hosts configured`);
    const results: string[] = [];
    let failed = false;
    for (const spec of this.cfg.hosts) {
      const started = monotonicMs();
      const r = await tryHosts([spec], 'ordered', SPAMD_PORT, signal, async (ep, progress) => {
        const socket = await connect(ep, signal, progress);
        const reply = await exchange(socket, (s) => write(s, encodeRequest({ command: 'PING' })), signal, { maxReply: 4096, progress });
        const pong = parsePong(reply);
        if (!pong.ok) throw new ScanError('error', pong.why);
      });
      failed ||= !r.ok;
      results.push(r.ok ? `${r.endpoint} PONG (${Math.round(monotonicMs() - started)} ms)` : `${r.endpoint} ${r.skip}: ${r.detail}`);
    }
    const line = `${this.name}: ${results.join('; ')}`;
    if (failed) throw new Error(line);
    return line;
  }
}

function verdictOf(reply: Scored): Pick<Verdict, 'status' | 'score' | 'threshold' | 'tests' | 'spamHeaders' | 'detail'> {
  const v: ReturnType<typeof verdictOf> = {
    status: reply.spam ? 'spam' : 'clean',
    score: reply.score,
    threshold: reply.threshold,
    detail: `score ${reply.score.toFixed(1)}/${reply.threshold.toFixed(1)}${reply.partial ? ' (partial)' : ''}`,
  };
  if (reply.tests) v.tests = reply.tests;
  if (reply.headers) v.spamHeaders = reply.headers;
  return v;
}
