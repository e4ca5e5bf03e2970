/**
 * The contract between the generic server (server.ts, connection.ts) and a protocol
 * (the LMTP state machine, the policy service): what a connection offers a handler and
 * what a handler answers. Types only: no behaviour.
 */
import type { Logger } from '../log/logger.js';

/** One client connection as a handler sees it. */
export interface Conn {
  /** Unique in this server process, for logs. */
  readonly id: number;
  /** `127.0.0.1:51234`, `[::1]:51234` or `unix` (a unix socket has no peer address). */
  readonly remote: string;
  /** Aborted when the connection is gone (client closed, error, shutdown past its grace): stop work for it. */
  readonly signal: AbortSignal;
  /** The server is shutting down: finish the open transaction, accept no new one. */
  readonly stopping: boolean;
  /** reply writes one line and the server's line end (CRLF for LMTP). Ignored once closed. */
  reply(line: string): void;
  /** write sends bytes as they are (a policy answer's `action=...\n\n`). Ignored once closed. */
  write(data: string | Buffer): void;
  /**
   * rawMode: from the byte after the current line, input goes to onRaw as Buffers (DATA).
   * Call it from onLine (after the 354); bytes of the same chunk already read follow at once.
   */
  rawMode(): void;
  /**
   * lineMode: back to lines, from onRaw. `rest` is what onRaw got but did not consume (the
   * pipelined commands after the final dot); it is read as lines before any new input.
   */
  lineMode(rest?: Buffer): void;
  /** close sends what was written, then ends the connection. */
  close(): void;
}

/**
 * A protocol's side of one connection. The server calls one method at a time and waits for
 * a returned promise before it reads more from this client (back-pressure: a busy handler
 * pauses only its own connection). A throw or rejection ends the connection with the
 * server's error line; other connections never notice.
 */
export interface ConnectionHandler {
  /** The greeting line (without line end), or undefined for none (the policy protocol). */
  greet(conn: Conn): string | undefined;
  /** One line, its CRLF or LF removed, decoded as UTF-8 (RFC 6531: SMTPUTF8 addresses). An empty line is ''. */
  onLine(line: string, conn: Conn): Promise<void> | void;
  /** Raw bytes after rawMode(); may be any split of the input (a streaming decoder takes them). */
  onRaw?(chunk: Buffer, conn: Conn): Promise<void> | void;
  /** True while a transaction is open: at shutdown the server waits for it (up to the grace). */
  inTransaction?(): boolean;
  /** The connection is gone; called once, after any running call has been started. */
  onClose(): void;
}

/** The server's own lines (without line end); undefined = close without a word. */
export interface ServerReplies {
  /** To a connection over max_connections, which is then closed. */
  busy?: string;
  /** To a client silent for idle_timeout, then closed. */
  idle?: string;
  /** To a line over max_line_length; the connection stays open. */
  lineTooLong?: string;
  /** To each connection still open at shutdown, then closed. */
  shutdown?: string;
  /** When a handler throws, then closed. */
  error?: string;
}

/** Limits re-read for every new connection and every wait, so a reload applies to what follows. */
export interface ServerLimits {
  maxConnections: number;
  idleTimeoutMs: number;
  maxLineLength: number;
}

export interface LineServerOptions {
  limits: ServerLimits;
  replies: ServerReplies;
  /** What reply() appends: '\r\n' (LMTP, the default) or '\n' (the policy protocol). */
  lineEnd?: string;
  logger: Logger;
  createHandler(conn: Conn): ConnectionHandler;
}
