/**
 * One client connection of the line server: reads with back-pressure (the socket is
 * paused while the handler works, and while replies wait for a slow reader), splits lines
 * with a hard length cap or passes raw bytes, arms the idle timer only while waiting for
 * the client, and turns a handler's throw into the error line for this connection alone.
 * Must not: know any protocol (handler.ts's implementers do) or touch other connections.
 */
import type { Socket } from 'node:net';
import type { Conn, ConnectionHandler, LineServerOptions, ServerLimits } from './handler.js';
import { LineSplitter } from './line-splitter.js';

export interface ConnectionContext {
  options: LineServerOptions;
  limits(): ServerLimits;
  /** Called once when the socket is closed. */
  gone(conn: Connection): void;
}

export class Connection implements Conn {
  readonly remote: string;
  private readonly controller = new AbortController();
  private readonly splitter: LineSplitter;
  private handler: ConnectionHandler | undefined;
  private mode: 'line' | 'raw' = 'line';
  private pumping = false;
  private closed = false;
  private clientEnded = false;
  private draining = false;
  private stoppingFlag = false;

  constructor(readonly id: number, private readonly socket: Socket, private readonly ctx: ConnectionContext) {
    this.remote = socket.remoteAddress ? `${socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]` : socket.remoteAddress}:${socket.remotePort}` : 'unix';
    this.splitter = new LineSplitter(ctx.limits().maxLineLength);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get stopping(): boolean {
    return this.stoppingFlag;
  }

  /** start greets and begins reading. */
  start(): void {
    const s = this.socket;
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('end', () => {
      this.clientEnded = true;
      // After our goodbye this is the client's FIN: the stream closes itself once our replies are out.
      if (!this.closed) void this.pump();
    });
    s.on('timeout', () => this.onTimeout());
    s.on('error', () => s.destroy()); // a reset peer: 'close' follows and ends the handler
    s.on('close', () => this.onSocketClose());
    try {
      this.handler = this.ctx.options.createHandler(this);
      const greeting = this.handler.greet(this);
      if (greeting !== undefined) this.reply(greeting);
    } catch (err) {
      return this.fail(err);
    }
    this.waitForClient();
  }

  reply(line: string): void {
    this.write(line + (this.ctx.options.lineEnd ?? '\r\n'));
  }

  write(data: string | Buffer): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(data);
  }

  rawMode(): void {
    this.mode = 'raw';
  }

  lineMode(rest?: Buffer): void {
    this.mode = 'line';
    if (rest) this.splitter.unshift(rest);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const s = this.socket;
    // end(), not destroy(): replies still queued go out first; the socket closes itself when both
    // sides are done, or at the idle timer when the client neither reads nor closes.
    s.end();
    s.setTimeout(this.ctx.limits().idleTimeoutMs);
    // Read on (and drop) until the client's FIN: closing with unread input makes the kernel
    // send a reset, which can destroy our last reply before the client reads it.
    if (!this.clientEnded) s.resume();
  }

  /** beginShutdown: an idle connection is told at once; one in a transaction when it ends. */
  beginShutdown(): void {
    this.stoppingFlag = true;
    if (!this.pumping && !this.inTransaction()) this.sayAndClose(this.ctx.options.replies.shutdown);
  }

  /** forceShutdown: the grace is over; whatever runs is abandoned (its signal aborts). */
  forceShutdown(): void {
    this.stoppingFlag = true;
    this.sayAndClose(this.ctx.options.replies.shutdown);
    this.controller.abort(new Error('server shutdown'));
  }

  /** destroy ends the socket now (after forceShutdown, for clients that do not read). */
  destroy(): void {
    this.socket.destroy();
  }

  private inTransaction(): boolean {
    try {
      return this.handler?.inTransaction?.() ?? false;
    } catch {
      return false; // a broken handler has no transaction worth waiting for
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return; // after goodbye: input is drained and dropped
    this.socket.pause();
    this.splitter.push(chunk);
    void this.pump();
  }

  /** pump hands buffered input to the handler, one call at a time, until more input is needed. */
  private async pump(): Promise<void> {
    if (this.pumping || this.closed || !this.handler) return;
    this.pumping = true;
    this.socket.setTimeout(0); // the handler's time is not the client's idleness
    try {
      this.splitter.maxLength = this.ctx.limits().maxLineLength;
      while (!this.closed) {
        if (this.mode === 'raw') {
          const bytes = this.splitter.takeAll();
          if (bytes.length === 0) break;
          if (!this.handler.onRaw) throw new Error('rawMode() without an onRaw handler');
          await this.handler.onRaw(bytes, this);
        } else {
          const piece = this.splitter.next();
          if (!piece) break;
          if (piece.kind === 'too-long') {
            const line = this.ctx.options.replies.lineTooLong;
            if (line === undefined) this.close();
            else this.reply(line);
          } else {
            await this.handler.onLine(piece.line.toString('utf8'), this);
          }
        }
        if (this.socket.writableNeedDrain) await this.drain();
      }
    } catch (err) {
      this.pumping = false;
      return this.fail(err);
    }
    this.pumping = false;
    if (this.closed) return;
    if (this.stoppingFlag && !this.inTransaction()) return this.sayAndClose(this.ctx.options.replies.shutdown);
    if (this.clientEnded) return this.close();
    this.waitForClient();
  }

  /** drain waits until a slow reader has taken our replies; the idle timer bounds the wait. */
  private drain(): Promise<void> {
    this.draining = true;
    this.socket.setTimeout(this.ctx.limits().idleTimeoutMs);
    return new Promise<void>((resolve) => {
      const done = () => {
        this.socket.off('drain', done).off('close', done);
        this.draining = false;
        this.socket.setTimeout(0);
        resolve();
      };
      this.socket.on('drain', done).on('close', done);
    });
  }

  private waitForClient(): void {
    if (this.closed) return;
    this.socket.setTimeout(this.ctx.limits().idleTimeoutMs);
    this.socket.resume();
  }

  private onTimeout(): void {
    // Closed already, or our replies are not being read: nothing more can be said.
    if (this.closed || this.draining) return void this.socket.destroy();
    this.sayAndClose(this.ctx.options.replies.idle);
  }

  private sayAndClose(line: string | undefined): void {
    if (this.closed) return;
    if (line !== undefined) this.reply(line);
    this.close();
  }

  private fail(err: unknown): void {
    this.ctx.options.logger.error(`connection ${this.id} from ${this.remote}: ${err instanceof Error ? err.message : String(err)}; closing it`);
    this.sayAndClose(this.ctx.options.replies.error);
  }

  private onSocketClose(): void {
    this.closed = true;
    this.controller.abort(new Error('connection closed'));
    try {
      this.handler?.onClose();
    } catch (err) {
      this.ctx.options.logger.error(`connection ${this.id}: onClose: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.ctx.gone(this);
  }
}
