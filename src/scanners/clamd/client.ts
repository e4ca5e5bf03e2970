/**
 * ClamdClient: one zINSTREAM exchange with clamd per message, over the hosts
 * of one [[scanner]] entry, under the scan's single budget. Thin: bytes and
 * parsing are protocol.ts, sockets and failover endpoint.ts. Never rejects
 * from scan(), and nothing but `stream: OK` is ever clean.
 */
import type net from 'node:net';
import type { ScannerConfig } from '../../config/schema.js';
import { monotonicMs } from '../../deadline/deadline.js';
import { connect, exchange, messageChunks, ScanError, tryHosts, write } from '../endpoint.js';
import type { ScanRequest, ScannerClient, Verdict } from '../types.js';
import { CHUNK_SIZE, frameChunk, INSTREAM_COMMAND, isPong, parseReply, PING_COMMAND, STREAM_END } from './protocol.js';

/** clamd's usual TCPSocket (clamd.conf(5)). */
export const CLAMD_PORT = 3310;
const MAX_REPLY = 16 * 1024; // one result line

export class ClamdClient implements ScannerClient {
  readonly name: string;
  readonly type = 'clamd' as const;

  /**
   * cfg.maxSize is the client-side StreamMaxLength and must not exceed clamd's:
   * over its limit clamd answers `INSTREAM size limit exceeded. ERROR` and closes,
   * and a fast writer then usually gets EPIPE and never sees that line (observed
   * with clamd 1.4.6), so the limit is enforced here, before and while sending.
   */
  constructor(private readonly cfg: ScannerConfig) {
    this.name = cfg.name;
  }

  async scan(req: ScanRequest): Promise<Verdict> {
    const started = monotonicMs();
    const base = { scanner: this.name, type: this.type };
    const elapsed = () => Math.round(monotonicMs() - started);
    const limit = this.cfg.maxSize;
    if (req.size > limit) {
      return { ...base, endpoint: this.cfg.hosts[0] ?? '(none)', status: 'skipped', skip: 'too-large', detail: `message ${req.size} bytes > max_size ${limit}`, elapsedMs: elapsed() };
    }

    const send = async (socket: net.Socket) => {
      await write(socket, INSTREAM_COMMAND);
      let sent = 0;
      for await (const chunk of messageChunks(req.path, req.signal, CHUNK_SIZE)) {
        sent += chunk.length;
        // The file may have grown since req.size was taken: never stream past the limit.
        if (sent > limit) throw new ScanError('too-large', `message grew past max_size ${limit} while streaming`);
        await write(socket, frameChunk(chunk));
      }
      await write(socket, STREAM_END);
    };

    try {
      const r = await tryHosts(this.cfg.hosts, this.cfg.order, CLAMD_PORT, req.signal, async (ep, progress) => {
        const socket = await connect(ep, req.signal, progress);
        const bytes = await exchange(socket, send, req.signal, { maxReply: MAX_REPLY, progress }).catch((err: NodeJS.ErrnoException) => {
          if (progress.phase !== 'writing' || !['EPIPE', 'ECONNRESET'].includes(err?.code ?? '')) throw err;
          throw new ScanError('error', `${err.code} while writing: clamd ended the stream early (StreamMaxLength below max_size ${limit}?)`);
        });
        const reply = parseReply(bytes.toString('latin1'));
        if (reply.verdict === 'error') throw new ScanError('error', reply.why);
        return reply;
      }, req.onHost);
      if (!r.ok) return { ...base, endpoint: r.endpoint, status: 'skipped', skip: r.skip, detail: r.detail, elapsedMs: elapsed() };
      const found = r.value;
      if (found.verdict === 'infected') {
        return { ...base, endpoint: r.endpoint, status: 'infected', signature: found.signature, detail: `${found.signature} FOUND`, elapsedMs: elapsed() };
      }
      return { ...base, endpoint: r.endpoint, status: 'clean', detail: 'OK', elapsedMs: elapsed() };
    } catch (err) {
      // Unreachable by design (tryHosts catches); kept so that scan() can never reject.
      return { ...base, endpoint: this.cfg.hosts[0] ?? '(none)', status: 'skipped', skip: 'error', detail: `internal error: ${String(err)}`, elapsedMs: elapsed() };
    }
  }

  /** ping - `zPING` to every host; resolves when all answer PONG, rejects naming the ones that did not. */
  async ping(signal: AbortSignal): Promise<string> {
    if (this.cfg.hosts.length === 0) throw new Error(`${this.name}: no hosts configured`);
    const results: string[] = [];
    let failed = false;
    for (const spec of this.cfg.hosts) {
      const started = monotonicMs();
      const r = await tryHosts([spec], 'ordered', CLAMD_PORT, signal, async (ep, progress) => {
        const socket = await connect(ep, signal, progress);
        const reply = (await exchange(socket, (s) => write(s, PING_COMMAND), signal, { maxReply: 4096, progress })).toString('latin1');
        if (!isPong(reply)) throw new ScanError('error', `not PONG: ${JSON.stringify(reply.slice(0, 60))}`);
      });
      failed ||= !r.ok;
      results.push(r.ok ? `${r.endpoint} PONG (${Math.round(monotonicMs() - started)} ms)` : `${r.endpoint} ${r.skip}: ${r.detail}`);
    }
    const line = `${this.name}: ${results.join('; ')}`;
    if (failed) throw new Error(line);
    return line;
  }
}
