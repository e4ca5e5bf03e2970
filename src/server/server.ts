/**
 * The generic long-running line server under `mda lmtp` and `mda policy`: takes connections
 * from any number of listeners, refuses those over max_connections with one line, runs
 * one Connection (and one protocol handler) per client, and drains for shutdown.
 * All state lives in the LineServer object. Must not: know a protocol, handle signals
 * (lifecycle.ts) or open sockets (listen.ts).
 */
import type { Socket } from 'node:net';
import { Connection } from './connection.js';
import type { LineServerOptions, ServerLimits } from './handler.js';
import type { OpenListener } from './listen.js';

export type { Conn, ConnectionHandler, LineServerOptions, ServerLimits, ServerReplies } from './handler.js';

export class LineServer {
  private readonly connections = new Set<Connection>();
  private readonly listeners: OpenListener[] = [];
  private nextId = 1;
  private stopping = false;
  /** Logged once per stretch at the limit, not once per refused connection (a flood would flood the log). */
  private atLimit = false;
  private idleWaiters: Array<() => void> = [];
  private limitsNow: ServerLimits;

  constructor(private readonly options: LineServerOptions) {
    this.limitsNow = { ...options.limits };
  }

  /** The limits in force; setLimits (a reload) applies to new connections and to every later wait. */
  get limits(): ServerLimits {
    return this.limitsNow;
  }

  setLimits(limits: ServerLimits): void {
    this.limitsNow = { ...limits };
  }

  /** Connections open now. */
  get active(): number {
    return this.connections.size;
  }

  /** serve starts taking connections from `listener`. */
  serve(listener: OpenListener): void {
    this.listeners.push(listener);
    listener.accept((socket) => this.onSocket(socket));
  }

  /** stopAccepting closes every listener (a unix socket's file goes with it when it can). */
  async stopAccepting(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.listeners.splice(0).map((l) => l.close()));
  }

  /** beginShutdown tells idle connections goodbye now and the others when their transaction ends. */
  beginShutdown(): void {
    this.stopping = true;
    for (const c of this.connections) c.beginShutdown();
  }

  /** forceShutdown: the grace is over; every connection left gets the shutdown line and is closed. */
  forceShutdown(): void {
    for (const c of this.connections) c.forceShutdown();
  }

  /** destroyAll ends every socket at once (clients that do not even read the shutdown line). */
  destroyAll(): void {
    for (const c of this.connections) c.destroy();
  }

  /** drained resolves once no connection is open. */
  drained(): Promise<void> {
    if (this.connections.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private onSocket(socket: Socket): void {
    socket.on('error', () => socket.destroy()); // until a Connection owns it: a reset must not throw
    if (this.stopping) return void socket.destroy();
    if (this.connections.size >= this.limitsNow.maxConnections) return this.refuse(socket);
    this.atLimit = false;
    const conn = new Connection(this.nextId++, socket, {
      options: this.options,
      limits: () => this.limitsNow,
      gone: (c) => this.onGone(c),
    });
    this.connections.add(conn);
    conn.start();
  }

  /** refuse: the busy line, then close; the socket counts against nothing meanwhile. */
  private refuse(socket: Socket): void {
    if (!this.atLimit) this.options.logger.warn(`max_connections (${this.limitsNow.maxConnections}) reached: refusing new connections until one ends`);
    this.atLimit = true;
    const line = this.options.replies.busy;
    if (line === undefined) socket.end();
    else socket.end(line + (this.options.lineEnd ?? '\r\n'));
    // Read and drop until the client's FIN (no reset over our line); the idle timer ends a mute one.
    socket.setTimeout(this.limitsNow.idleTimeoutMs, () => socket.destroy());
    socket.resume();
  }

  private onGone(conn: Connection): void {
    this.connections.delete(conn);
    if (this.connections.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
